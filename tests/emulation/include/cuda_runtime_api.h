// CUDA splits its runtime API into this header; here it is all in cuda_runtime.h.
#pragma once

#include "cuda_runtime.h"
