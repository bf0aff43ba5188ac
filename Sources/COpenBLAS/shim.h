#pragma once
// cblas_sgemm and OpenBLAS's thread controls (openblas_set_num_threads, openblas_get_corename).
#include <cblas.h>
