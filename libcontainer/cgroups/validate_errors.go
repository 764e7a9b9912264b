package cgroups

// InvalidResourceError is a resource value ValidateResources rejected.
// errors.Is(err, ErrInvalidResource) holds for it.
type InvalidResourceError struct {
	// Field is the spec path below linux.resources ("cpu.cpus").
	Field string
	// Reason says what is wrong with the value.
	Reason string
}

func (e *InvalidResourceError) Error() string {
	return "linux.resources." + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidResource) true.
func (e *InvalidResourceError) Is(target error) bool { return target == ErrInvalidResource }

func invalid(field, reason string) error {
	return &InvalidResourceError{Field: field, Reason: reason}
}
