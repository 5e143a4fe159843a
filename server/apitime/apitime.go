// Package apitime is the timestamp type of the API: GitLab wrote every time as
// UTC with exactly three fractional digits ("2016-01-04T15:31:51.081Z"), which
// time.Time's own JSON form does not (it trims zeros and keeps the zone).
package apitime

import (
	"fmt"
	"strings"
	"time"
)

// Layout is GitLab 8.7's timestamp layout.
const Layout = "2006-01-02T15:04:05.000Z07:00"

// Time is a time.Time that marshals the way GitLab did.
type Time struct{ time.Time }

// From converts t.
func From(t time.Time) Time { return Time{t} }

// FromPtr converts a nullable time.
func FromPtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	return &Time{*t}
}

// MarshalJSON writes UTC with milliseconds.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(Layout) + `"`), nil
}

// UnmarshalJSON accepts any RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if !strings.HasPrefix(s, `"`) || !strings.HasSuffix(s, `"`) {
		return fmt.Errorf("apitime: not a JSON string: %s", s)
	}
	v, err := time.Parse(time.RFC3339Nano, strings.Trim(s, `"`))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalText and UnmarshalText serve query and form parameters.
func (t Time) MarshalText() ([]byte, error) { return []byte(t.UTC().Format(Layout)), nil }

func (t *Time) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}
