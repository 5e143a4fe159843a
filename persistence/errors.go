package persistence

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("persistence: not found")

// ValidationError carries a model's validation errors, one list of messages
// per attribute, in the order GitLab's models reported them.
type ValidationError struct {
	Fields map[string][]string
	order  []string
}

// Add records msg against field.
func (v *ValidationError) Add(field, msg string) {
	if v.Fields == nil {
		v.Fields = map[string][]string{}
	}
	if _, ok := v.Fields[field]; !ok {
		v.order = append(v.order, field)
	}
	v.Fields[field] = append(v.Fields[field], msg)
}

// Has reports whether field has the message msg.
func (v *ValidationError) Has(field, msg string) bool {
	for _, m := range v.Fields[field] {
		if m == msg {
			return true
		}
	}
	return false
}

// Empty reports whether nothing was added.
func (v *ValidationError) Empty() bool { return len(v.Fields) == 0 }

// OrNil returns v when it holds errors, nil otherwise.
func (v *ValidationError) OrNil() error {
	if v.Empty() {
		return nil
	}
	return v
}

// FieldNames lists the fields in the order they were added.
func (v *ValidationError) FieldNames() []string {
	if len(v.order) == len(v.Fields) {
		return v.order
	}
	names := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (v *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("validation failed:")
	for _, f := range v.FieldNames() {
		b.WriteString(" " + f + " " + strings.Join(v.Fields[f], ", ") + ";")
	}
	return b.String()
}

// Validation messages as Rails wrote them.
const (
	msgBlank   = "can't be blank"
	msgTaken   = "has already been taken"
	msgInvalid = "is invalid"
)

func msgTooLong(n int) string {
	return "is too long (maximum is " + strconv.Itoa(n) + " characters)"
}

func msgTooShort(n int) string {
	return "is too short (minimum is " + strconv.Itoa(n) + " characters)"
}
