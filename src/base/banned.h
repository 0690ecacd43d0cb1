/*
 * Functions that are too easy to misuse; using one is a compile error
 * (git's banned.h). Use tn_buf, snprintf and tn_parse_int64 instead.
 */
#ifndef TN_BANNED_H
#define TN_BANNED_H

#define BANNED(f) sorry_##f##_is_banned_in_tarn

#undef strcpy
#define strcpy(d, s) BANNED(strcpy)
#undef strcat
#define strcat(d, s) BANNED(strcat)
#undef strncpy
#define strncpy(d, s, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(s, d) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef atoi
#define atoi(s) BANNED(atoi)

#endif
