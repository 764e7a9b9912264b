package libcontainer

import "strings"

// Op is an operation a command asks of a container.
type Op string

const (
	OpStart       Op = "start"
	OpExec        Op = "exec"
	OpExecPaused  Op = "exec --ignore-paused"
	OpPause       Op = "pause"
	OpResume      Op = "resume"
	OpSignal      Op = "kill"
	OpDelete      Op = "delete"
	OpDeleteForce Op = "delete --force"
	OpUpdate      Op = "update"
	OpEvents      Op = "events"
)

// refusal is why an operation is refused in a status: a sentinel (runc's
// text, which engines match), or a text of its own, where {id} stands
// for the container's id and {status} for the status.
type refusal struct {
	sentinel error
	text     string
}

// lifecycle is the one place that says which operations each status
// allows: an operation is allowed in a status unless the table has a
// refusal for it. The texts are runc's where engines match them.
var lifecycle = map[Op]map[Status]refusal{
	OpStart: {
		Creating: {text: "cannot start a container in the {status} state"},
		Running:  {text: "cannot start an already running container"},
		Paused:   {text: "cannot start a container in the {status} state"},
		Stopped:  {text: "cannot start a container that has stopped"},
	},
	OpExec: {
		Creating: {text: "cannot exec in a container that is being created"},
		Paused:   {text: "cannot exec in a paused container (use --ignore-paused to override)"},
		Stopped:  {text: "cannot exec in a stopped container"},
	},
	OpExecPaused: {
		Creating: {text: "cannot exec in a container that is being created"},
		Stopped:  {text: "cannot exec in a stopped container"},
	},
	OpPause: {
		Creating: {sentinel: ErrNotRunning},
		Paused:   {sentinel: ErrNotRunning},
		Stopped:  {sentinel: ErrNotRunning},
	},
	OpResume: {
		Creating: {sentinel: ErrNotPaused},
		Created:  {sentinel: ErrNotPaused},
		Running:  {sentinel: ErrNotPaused},
		Stopped:  {sentinel: ErrNotPaused},
	},
	OpSignal: {
		Stopped: {sentinel: ErrNotRunning},
	},
	OpDelete: {
		Running: {text: "cannot delete container {id} that is not stopped: {status}"},
		Paused:  {text: "cannot delete container {id} that is not stopped: {status}"},
	},
	OpDeleteForce: {},
	OpUpdate: {
		Stopped: {sentinel: ErrNotRunning},
	},
	OpEvents: {
		Stopped: {text: "container with id {id} is not running"},
	},
}

// StatusError is an operation refused in the container's status. It
// unwraps to the sentinel of the refusal, if any (ErrNotRunning,
// ErrNotPaused).
type StatusError struct {
	Op     Op
	ID     string
	Status Status
	r      refusal
}

func (e *StatusError) Error() string {
	if e.r.sentinel != nil {
		return e.r.sentinel.Error()
	}
	return strings.NewReplacer("{id}", e.ID, "{status}", string(e.Status)).Replace(e.r.text)
}

func (e *StatusError) Unwrap() error { return e.r.sentinel }

// checkStatus says whether op is allowed in status s (nil) or why not.
func checkStatus(op Op, id string, s Status) error {
	rules, ok := lifecycle[op]
	if !ok {
		panic("libcontainer: operation " + string(op) + " missing from the lifecycle table")
	}
	if r, refused := rules[s]; refused {
		return &StatusError{Op: op, ID: id, Status: s, r: r}
	}
	return nil
}

// Check reads the container's status from the kernel and says whether op
// is allowed in it (for commands outside this package, such as events).
func (c *Container) Check(op Op) error {
	return checkStatus(op, c.ID(), c.Status())
}
