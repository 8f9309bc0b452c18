/*
 * Functions we never call (git's banned.h). Include last.
 */
#ifndef DC_BANNED_H
#define DC_BANNED_H

#define DC_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) DC_BANNED(strcpy)
#undef strcat
#define strcat(x, y) DC_BANNED(strcat)
#undef sprintf
#define sprintf(...) DC_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DC_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) DC_BANNED(strtok)
#undef gets
#define gets(x) DC_BANNED(gets)

#endif
