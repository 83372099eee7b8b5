/* The encoder folder's internal interfaces, in four rooms: loader.h (config, checkpoints,
 * weights), backend.h (the dense products: oneDNN, sgemm, qgemm behind one seam), kernels.h (plain
 * loops, attention, relative positions) and runtime.h (model, context, layer builder); arch.h is the
 * family registry. Never installed. */
#ifndef BERT_ENCODER_H
#define BERT_ENCODER_H

#include "arch.h"
#include "backend.h"
#include "kernels.h"
#include "loader.h"
#include "runtime.h"

#endif
