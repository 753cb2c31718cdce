/* facematch: declarations of the XNNPACK delegate entry points exported by the
 * TensorFlow Lite 2.23 C library in litert-lm-api 0.18.1. No registry package
 * ships this header, so only what tflitec calls is declared here.
 *
 * The real options struct starts with `int32_t num_threads; uint32_t flags;`
 * and continues with pointers and flags that change between releases. Ours
 * keeps the two leading fields at the same offsets and reserves more room than
 * the 2.23 struct needs, so returning it by value (the callee writes through a
 * hidden pointer into our larger buffer) and passing it by pointer (the callee
 * reads only its own fields, which the library's Default() filled in) are both
 * safe. A smaller struct would not be. */
#ifndef FACEMATCH_TFLITE_XNNPACK_DELEGATE_H_
#define FACEMATCH_TFLITE_XNNPACK_DELEGATE_H_

#include <stdint.h>
#include "tensorflow/lite/core/c/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t num_threads;
  uint32_t flags;
  /* Room for the rest of the library's own struct (about 100 bytes in 2.23). */
  uint64_t reserved[64];
} TfLiteXNNPackDelegateOptions;

TfLiteXNNPackDelegateOptions TfLiteXNNPackDelegateOptionsDefault(void);
TfLiteDelegate* TfLiteXNNPackDelegateCreate(const TfLiteXNNPackDelegateOptions* options);
void TfLiteXNNPackDelegateDelete(TfLiteDelegate* delegate);

#ifdef __cplusplus
}
#endif

#endif
