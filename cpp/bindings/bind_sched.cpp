// Cost model, time model, scheduling simulator and job journal.
#include "common.h"
#include "exafold/core/error.h"
#include "exafold/model/config.h"
#include "exafold/sched/cost_model.h"
#include "exafold/sched/journal.h"
#include "exafold/sched/model_cost.h"
#include "exafold/sched/simulator.h"
#include "numpy_vector.h"

namespace exafold::py {
namespace {

using namespace exafold::sched;
using pyb::arg;

CostWorkload workload(int64_t msa_clusters, int64_t extra_msa_rows, int64_t templates,
                      int64_t passes) {
  return {msa_clusters, extra_msa_rows, templates, passes};
}

CostDims dims(bool ptm) {
  CostDims d;
  d.ptm_head = ptm;
  return d;
}

pyb::dict result_dict(SimulationResult&& r) {
  pyb::dict d;
  d["makespan_s"] = r.makespan_s;
  d["total_work_s"] = r.total_work_s;
  d["efficiency"] = r.efficiency;
  d["tail_idle_s"] = r.tail_idle_s;
  d["max_tail_idle_s"] = r.max_tail_idle_s;
  d["requests"] = r.requests;
  d["busy_s"] = to_numpy(std::move(r.busy_s));
  return d;
}

#define EXAFOLD_WORKLOAD_ARGS                                                    \
  arg("msa_clusters") = 512, arg("extra_msa_rows") = 5120, arg("templates") = 4, \
  arg("passes") = 4, arg("ptm") = true

}  // namespace

void bind_sched(pyb::module_& m) {
  m.def(
      "flop_polynomial",
      [](int64_t n, int64_t e, int64_t t, int64_t p, bool ptm) {
        const auto f = flop_polynomial(dims(ptm), workload(n, e, t, p));
        return pyb::make_tuple(f.c3, f.c2, f.c1, f.c0);
      },
      pyb::kw_only(), EXAFOLD_WORKLOAD_ARGS,
      "FLOPs of one AlphaFold2 prediction as (c3, c2, c1, c0) of a cubic in the length S");
  m.def(
      "preset_flop_polynomial",
      [](const std::string& preset, int64_t n, int64_t e, int64_t p, int64_t t) {
        const model::ModelConfig cfg = model::preset(preset);
        const auto f = flop_polynomial(cost_dims(cfg), cost_workload(cfg, n, e, t, p));
        return pyb::make_tuple(f.c3, f.c2, f.c1, f.c0);
      },
      arg("preset"), pyb::kw_only(), arg("msa_clusters") = 512, arg("extra_msa_rows") = 5120,
      arg("passes") = 4, arg("templates") = 0,
      "flop_polynomial for a model preset's own sizes as exafold runs it: `templates` only "
      "where the preset embeds them, their embedding once per prediction");
  m.def(
      "flop_breakdown",
      [](int64_t n, int64_t e, int64_t t, int64_t p, bool ptm) {
        pyb::dict d;
        for (const auto& x : flop_breakdown(dims(ptm), workload(n, e, t, p)))
          d[pyb::str(x.module)] = pyb::make_tuple(x.flops.c3, x.flops.c2, x.flops.c1, x.flops.c0);
        return d;
      },
      pyb::kw_only(), EXAFOLD_WORKLOAD_ARGS, "per-module (c3, c2, c1, c0), summed over passes");
  m.def(
      "prediction_flops",
      [](int64_t s, int64_t n, int64_t e, int64_t t, int64_t p, bool ptm) {
        return prediction_flops(s, dims(ptm), workload(n, e, t, p));
      },
      arg("residues"), pyb::kw_only(), EXAFOLD_WORKLOAD_ARGS,
      "Analytic FLOPs of one prediction of `residues` residues (multiply-adds count 2).");

  pyb::class_<DeviceTimeModel>(m, "DeviceTimeModel",
                               "Seconds per prediction on one device: flop_seconds * FLOPs + "
                               "pair_seconds * S^2 + overhead_seconds, fitted to timed runs.")
      .def(pyb::init([](std::string device, double f, double p, double o) {
             return DeviceTimeModel{std::move(device), f, p, o};
           }),
           arg("device"), arg("flop_seconds"), arg("pair_seconds") = 0.0,
           arg("overhead_seconds") = 0.0)
      .def_readwrite("device", &DeviceTimeModel::device, "Name of the device the model describes.")
      .def_readwrite("flop_seconds", &DeviceTimeModel::flop_seconds, "Seconds per FLOP.")
      .def_readwrite("pair_seconds", &DeviceTimeModel::pair_seconds,
                     "Seconds per residue pair (memory-bound pair work).")
      .def_readwrite("overhead_seconds", &DeviceTimeModel::overhead_seconds,
                     "Fixed seconds per prediction.")
      .def("seconds", &DeviceTimeModel::seconds, arg("residues"), arg("flops"),
           "Predicted seconds of one prediction of `residues` residues costing `flops`.")
      .def_static(
          "fit",
          [](std::string device, std::vector<int64_t> residues, std::vector<double> flops,
             std::vector<double> seconds) {
            check(residues.size() == flops.size() && flops.size() == seconds.size(),
                  "residues, flops and seconds must have the same length");
            std::vector<TimedRun> runs;
            for (size_t i = 0; i < residues.size(); ++i)
              runs.push_back({residues[i], flops[i], seconds[i]});
            return DeviceTimeModel::fit(std::move(device), runs);
          },
          arg("device"), arg("residues"), arg("flops"), arg("seconds"),
          "Least-squares fit (non-negative coefficients) to finished runs' lengths, FLOPs and "
          "seconds.")
      .def("to_json", &DeviceTimeModel::to_json, "The model as one JSON object.")
      .def_static("from_json", &DeviceTimeModel::from_json, arg("text"),
                  "A model from to_json's text; ValueError on malformed text.")
      .def("__repr__", &DeviceTimeModel::to_json);

  m.def(
      "synthetic_lengths",
      [](const std::string& name, int64_t count, int32_t max_length, uint64_t seed) {
        std::vector<int32_t> v;
        {
          pyb::gil_scoped_release release;
          v = synthetic_lengths(name, count, max_length, seed);
        }
        return to_numpy(std::move(v));
      },
      arg("name"), arg("count"), arg("max_length") = 2500, arg("seed") = 0,
      "`count` protein lengths drawn from a named distribution (e.g. uniprot), capped at "
      "max_length, as an int32 array; deterministic for a seed.");
  m.def(
      "item_seconds",
      [](pyb::array_t<int32_t, pyb::array::c_style | pyb::array::forcecast> lengths,
         const DeviceTimeModel& time, int64_t n, int64_t e, int64_t t, int64_t p, bool ptm) {
        std::vector<double> v;
        {
          pyb::gil_scoped_release release;
          v = item_seconds({lengths.data(), size_t(lengths.size())}, time, dims(ptm),
                           workload(n, e, t, p));
        }
        return to_numpy(std::move(v));
      },
      arg("lengths"), arg("time_model"), pyb::kw_only(), EXAFOLD_WORKLOAD_ARGS,
      "Predicted seconds of each length under a DeviceTimeModel and the cost model's FLOPs.");
  m.def(
      "simulate",
      [](pyb::array_t<double, pyb::array::c_style | pyb::array::forcecast> item_seconds,
         int64_t workers, const std::string& policy, int64_t min_chunk, double chunk_divisor,
         double latency) {
        const SimulationOptions o{workers, parse_policy(policy), min_chunk, chunk_divisor, latency};
        SimulationResult r;
        {
          pyb::gil_scoped_release release;
          r = simulate({item_seconds.data(), size_t(item_seconds.size())}, o);
        }
        return result_dict(std::move(r));
      },
      arg("item_seconds"), arg("workers"), arg("policy") = "dispenser", arg("min_chunk") = 1,
      arg("chunk_divisor") = 2.0, arg("dispatch_latency_s") = 0.0,
      "Simulates running items of the given seconds on `workers` under a policy (dispenser, lpt "
      "or round_robin); returns makespan_s, total_work_s, efficiency, tail idle times, requests "
      "and per-worker busy_s.");

  m.def("config_hash", &config_hash, arg("canonical_config"),
        "FNV-1a 64 of a run's canonical configuration text, as 16 hex digits.");
  pyb::class_<JournalWriter>(m, "JournalWriter",
                             "The job journal: append-only, one fsynced JSON record per line "
                             "(docs/formats.md). Opening an existing journal resumes it; a "
                             "different config hash is refused.")
      .def(pyb::init<std::string, std::string_view>(), arg("path"), arg("config_hash"))
      // Each record is fsynced: release the GIL so a writer thread's journal does not stall
      // the worker thread for the duration of the disk flush.
      .def("started", &JournalWriter::started, arg("id"),
           pyb::call_guard<pyb::gil_scoped_release>(), "Records that `id` began.")
      .def(
          "done",
          [](JournalWriter& w, std::string id, std::string shard, int64_t offset, std::string model,
             uint64_t seed, double seconds) {
            w.done({std::move(id), std::move(shard), offset, std::move(model), seed, seconds});
          },
          arg("id"), arg("shard"), arg("offset"), arg("model"), arg("seed"), arg("seconds"),
          pyb::call_guard<pyb::gil_scoped_release>(),
          "Records that `id` is durable in `shard` at row `offset`.")
      .def("failed", &JournalWriter::failed, arg("id"), arg("reason"),
           pyb::call_guard<pyb::gil_scoped_release>(),
           "Records that `id` cannot be predicted, and why.")
      .def("warning", &JournalWriter::warning, arg("id"), arg("reason"),
           pyb::call_guard<pyb::gil_scoped_release>(),
           "Records what `id` goes on without (a template hit skipped, ...), and why; the item "
           "is not finished by it.")
      .def(
          "finished_ids", [](const JournalWriter& w) { return w.resumed().finished_ids(); },
          "Ids the journal held as done or failed when it was opened.");
  m.def(
      "read_journal",
      [](const std::string& path) {
        const JournalContents c = read_journal(path);
        pyb::list done, failed, warnings;
        for (const auto& d : c.done) {
          pyb::dict x;
          x["id"] = d.id, x["shard"] = d.shard, x["offset"] = d.offset, x["model"] = d.model;
          x["seed"] = d.seed, x["seconds"] = d.seconds;
          done.append(x);
        }
        for (const auto& f : c.failed) {
          pyb::dict x;
          x["id"] = f.id, x["reason"] = f.reason;
          failed.append(x);
        }
        for (const auto& w : c.warnings) {
          pyb::dict x;
          x["id"] = w.id, x["reason"] = w.reason;
          warnings.append(x);
        }
        pyb::dict d;
        d["config_hash"] = c.config_hash;
        d["started"] = c.started;
        d["done"] = done;
        d["failed"] = failed;
        d["warnings"] = warnings;
        d["torn_tail"] = c.torn_tail;
        d["finished_ids"] = c.finished_ids();
        return d;
      },
      arg("path"),
      "A journal's records: config_hash, started, done and failed records, torn_tail (a torn "
      "last line was ignored) and finished_ids.");
}

}  // namespace exafold::py
