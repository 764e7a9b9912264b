package libcontainer

import "errors"

// Sentinel errors. Their texts are runc's: engines match these strings.
var (
	ErrExist      = errors.New("container with given ID already exists")
	ErrNotExist   = errors.New("container does not exist")
	ErrNotRunning = errors.New("container not running")
	ErrPaused     = errors.New("container paused")
	ErrRunning    = errors.New("container still running")
	ErrNotPaused  = errors.New("container not paused")
	ErrInvalidID  = errors.New("invalid container id format")
)
