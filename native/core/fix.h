/*
 * An error message may end with its fix, as data: "what went wrong and why"
 * FIX("what to do"). The separator is a control character no message
 * otherwise carries; the Node-API boundary splits the text there once
 * (napi_util_throw_errno: the exception's message and its `fix`; a run's
 * errorMessage and errorFix), so TypeScript never parses a fix out of prose.
 * The fix comes last: text added after an errmsg that holds one would join it.
 */
#ifndef NVMEBENCH_FIX_H
#define NVMEBENCH_FIX_H

#define FIX_SEP "\x1f"
#define FIX(text) FIX_SEP text

#endif
