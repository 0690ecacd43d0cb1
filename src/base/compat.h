/*
 * First include of every tarn .c file: feature macros, project-wide
 * attributes and the banned-function list, in one place (git's
 * git-compat-util.h, curl's curl_setup.h).
 */
#ifndef TN_COMPAT_H
#define TN_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>

#define TN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TN_NORETURN __attribute__((noreturn))
#define TN_UNUSED(x) ((void)(x))
#define TN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#include "base/banned.h"

#endif
