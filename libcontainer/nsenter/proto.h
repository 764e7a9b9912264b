/* The message types of the init protocol that the C stage speaks. Their
 * definition is libcontainer/initproto (proto.go); a Go test checks that
 * this file agrees with it. Every message is a frame: the type byte, a
 * little-endian u32 payload length, then the payload. */
#ifndef RT_NSENTER_PROTO_H
#define RT_NSENTER_PROTO_H

#define RT_MSG_BOOTSTRAP 'B'
#define RT_MSG_USERMAPS 'U'
#define RT_MSG_MAPSOK 'u'
#define RT_MSG_CGROUPOK 'g'
#define RT_MSG_PID 'P'
#define RT_MSG_CONFIG 'C'
#define RT_MSG_IDMAPTREES 'M'
#define RT_MSG_HOOKS 'H'
#define RT_MSG_HOOKSOK 'h'
#define RT_MSG_SECCOMP 'S'
#define RT_MSG_SECCOMPOK 's'
#define RT_MSG_JOIN 'J'
#define RT_MSG_JOINED 'j'
#define RT_MSG_READY 'R'
#define RT_MSG_ERROR 'E'
#define RT_MSG_PLAN 'X'
#define RT_MSG_SETUPDONE 'D'
#define RT_MSG_STARTHOOKS 'K'
#define RT_MSG_SETUPPLAN 'T'

#define RT_FRAME_HEADER 5
#define RT_MAX_JOIN 16
#define RT_MAX_TIME 4
#define RT_MAX_CGROUP_TASKS 32
#define RT_MAX_BOOTSTRAP (1 << 20)

#endif
