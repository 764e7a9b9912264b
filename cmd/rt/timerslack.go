package main

// rt's own threads get a timer slack of 1 ms before the Go runtime starts
// (nsenter.c, coarse_timerslack): its sysmon thread then wakes ~10 times
// per `run` rather than ~70. Every child rt starts gets the slack rt was
// started with (nsenter.WithChildTimerSlack); docs/design.md, "The parent's
// own work".

/*
long rt_coarse_timerslack = 1000000;
*/
import "C"
