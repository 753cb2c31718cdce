/* facematch: the public TensorFlow Lite C API entry header. Upstream this file
 * only forwards to the core header, which setup.sh copies from the
 * edgefirst-tflite-sys crate (TensorFlow's Apache-2.0 headers). */
#ifndef FACEMATCH_TFLITE_C_C_API_H_
#define FACEMATCH_TFLITE_C_C_API_H_
#include "tensorflow/lite/core/c/c_api.h"
#endif
