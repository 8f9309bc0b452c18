/*
 * decant: convert and repackage container image archives.
 * The umbrella header.
 */
#ifndef DECANT_H
#define DECANT_H

#include "error.h"
#include "image.h"
#include "read.h"
#include "write.h"
#include "inventory.h"
#include "registry.h"
#include "analyze.h"

#endif
