/* The container's set-up applied by its C init (setup.c; the records are
 * initproto/setup.go's). */
#ifndef RT_NSENTER_SETUP_H
#define RT_NSENTER_SETUP_H

#include <stddef.h>

/* rt_setup_apply checks every record of buf (the payload of a SetupPlan
 * frame), then applies them in order; sock is the init socket (the 'H'
 * record asks the parent to run its hooks there); env is the process's
 * environment (a createContainer hook without its own). Returns 0, or -1 with
 * the error in rt_plan_errmsg (what was applied stays: the caller gives
 * up). */
int rt_setup_apply(const char *buf, size_t len, int sock, char **env);

/* rt_setup_check only reads the records (what rt_setup_apply does first):
 * 0, or -1 with the error in rt_plan_errmsg. */
int rt_setup_check(const char *buf, size_t len);

/* rt_proc_open_write (plan.c) opens /proc/<sub> for writing, refusing a
 * path that crosses a mount or a /proc that is not a procfs root (errno
 * EXDEV, ENOTDIR). */
int rt_proc_open_write(const char *sub);

#endif
