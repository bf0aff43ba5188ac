#pragma once
// cblas_sgemm and OpenBLAS's thread controls (openblas_set_num_threads, openblas_get_corename).
#include <cblas.h>

// OpenBLAS's pthread build starts its server threads when the library loads, and each spins on sched_yield for
// about 2^28 cycles (OPENBLAS_THREAD_TIMEOUT) before it sleeps: a core lost while a model loads. RAFTKit calls
// OpenBLAS from its own threads with one OpenBLAS thread, so it stops them with blas_thread_shutdown_, the
// function OpenBLAS's own fork handler calls (driver/others/blas_server.c); exec_blas restarts them should a
// threaded call need them. Weak: absent from serial and OpenMP builds that do not export it.
extern int blas_thread_shutdown_(void) __attribute__((weak));

static inline void raftkit_openblas_stop_server_threads(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}
