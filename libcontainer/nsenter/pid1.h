/* The container's init of `rt create` as a C process (pid1.c). */
#ifndef RT_NSENTER_PID1_H
#define RT_NSENTER_PID1_H

#include <stddef.h>

/* rt_pid1 runs in the process that becomes the container's init. With
 * setup_in_c it forks no set-up child: it reads the SetupPlan frame after
 * the plan and applies it itself (setup.c). Else it returns only in the
 * set-up child it forks (which goes on into Go, with
 * rt_setup_sock set); the init itself never returns: it execs the
 * container's process or exits. */
void rt_pid1(int initfd, int setup_in_c);

/* The set-up child's end of its socket to pid 1; -1 elsewhere. */
extern int rt_setup_sock;

/* create's startContainer hooks (pid1_hooks.c): parse the payload of
 * RT_MSG_STARTHOOKS (kept alive), and run them (the plan's before_exec). */
struct rt_plan;
int rt_pid1_parse_hooks(const char *buf, size_t len);
int rt_pid1_run_start_hooks(const struct rt_plan *p);
/* createContainer hooks (the set-up in C, setup.c): parse buf (kept alive
 * while they run) and run them; env for a hook without one. 0, or -1 with
 * rt_plan_errmsg set. */
int rt_pid1_run_create_hooks(const char *buf, size_t len, char **env);

#endif
