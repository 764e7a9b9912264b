package utils

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes v to w as compact JSON with no trailing newline, as runc's
// utils.WriteJSON does.
func WriteJSON(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T as JSON: %w", v, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
