package specconv

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

// Size limits on the strings of a config, checked before anything else so
// that an absurd value fails at once, with an error that names the field
// and does not echo the value. A value the kernel would refuse anyway (a
// path beyond PATH_MAX, an argument beyond MAX_ARG_STRLEN, a hostname
// beyond HOST_NAME_MAX) is refused at the kernel's limit; any other string
// at maxString.
const (
	maxPath     = 4096      // PATH_MAX
	maxArg      = 32 * 4096 // MAX_ARG_STRLEN: one argument or environment string
	maxHostname = 64        // HOST_NAME_MAX
	maxString   = 1 << 20
	// maxConfigFile bounds config.json itself.
	maxConfigFile = 8 << 20
)

// fieldLimits are the limits by JSON field name (the last element of the
// field's path, without an index).
var fieldLimits = map[string]int{
	"cgroupsPath": maxPath, "path": maxPath, "destination": maxPath, "source": maxPath,
	"cwd": maxPath, "listenerPath": maxPath, "hostname": maxHostname, "domainname": maxHostname,
	"args": maxArg, "env": maxArg,
}

// CheckSizes refuses a config holding a string beyond its limit. v is a
// spec or a part of it (the process of `rt exec --process`); prefix is
// its field path ("" for a whole spec).
func CheckSizes(v any, prefix string) error {
	return checkSizes(reflect.ValueOf(v), prefix, "")
}

func checkSizes(v reflect.Value, path, name string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkSizes(v.Elem(), path, name)
	case reflect.String:
		limit, ok := fieldLimits[name]
		if !ok {
			limit = maxString
		}
		if n := v.Len(); n > limit {
			return invalid(path, "%d bytes exceed the limit of %d", n, limit)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			jn := strings.Split(f.Tag.Get("json"), ",")[0]
			if jn == "-" {
				continue
			}
			if jn == "" {
				jn = f.Name
			}
			if err := checkSizes(v.Field(i), join(path, jn), jn); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkSizes(v.Index(i), path+"["+strconv.Itoa(i)+"]", name); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			key := "?"
			if k.Kind() == reflect.String {
				key = k.String()
				if len(key) > maxString {
					return invalid(path, "a key of %d bytes exceeds the limit of %d", len(key), maxString)
				}
				if len(key) > 64 {
					key = key[:64] + "..."
				}
			}
			if err := checkSizes(iter.Value(), path+"["+strconv.Quote(key)+"]", name); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// readBounded reads a file of at most limit bytes (utils.ReadFileLimit:
// plain system calls, sized by fstat). Errors are *os.PathError, as
// os.ReadFile gives them, or the limit's.
func readBounded(path string, limit int64) ([]byte, error) {
	data, err := utils.ReadFileLimit(path, limit)
	if errors.Is(err, utils.ErrFileTooLarge) {
		return nil, fmt.Errorf("larger than the limit of %d bytes", limit)
	}
	return data, err
}
