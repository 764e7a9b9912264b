package cgroups

import specs "github.com/opencontainers/runtime-spec/specs-go"

func devNum(n int64) *int64 { return &n }

// DefaultAllowedDevices is the device allow-list runc 1.1 appends after
// the spec's own rules (libcontainer/specconv AllowedDevices, checked
// against the devices.list runc 1.1.5 writes on this host): mknod of
// any char and block device, /dev/null, random, full, tty, zero,
// urandom, /dev/pts/*, /dev/ptmx and /dev/net/tun (tun/tap was dropped in
// runc 1.2.0 and put back in 1.2.4; 1.1 has it). /dev/console (5:1) is
// not in it. The caller (specconv) appends it; Set applies the list as
// given.
var DefaultAllowedDevices = []specs.LinuxDeviceCgroup{
	{Allow: true, Type: "c", Major: nil, Minor: nil, Access: "m"},
	{Allow: true, Type: "b", Major: nil, Minor: nil, Access: "m"},
	{Allow: true, Type: "c", Major: devNum(1), Minor: devNum(3), Access: "rwm"},    // /dev/null
	{Allow: true, Type: "c", Major: devNum(1), Minor: devNum(8), Access: "rwm"},    // /dev/random
	{Allow: true, Type: "c", Major: devNum(1), Minor: devNum(7), Access: "rwm"},    // /dev/full
	{Allow: true, Type: "c", Major: devNum(5), Minor: devNum(0), Access: "rwm"},    // /dev/tty
	{Allow: true, Type: "c", Major: devNum(1), Minor: devNum(5), Access: "rwm"},    // /dev/zero
	{Allow: true, Type: "c", Major: devNum(1), Minor: devNum(9), Access: "rwm"},    // /dev/urandom
	{Allow: true, Type: "c", Major: devNum(136), Minor: nil, Access: "rwm"},        // /dev/pts/*
	{Allow: true, Type: "c", Major: devNum(5), Minor: devNum(2), Access: "rwm"},    // /dev/ptmx
	{Allow: true, Type: "c", Major: devNum(10), Minor: devNum(200), Access: "rwm"}, // /dev/net/tun
}
