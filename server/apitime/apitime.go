// Package apitime is the timestamp type of the API: GitLab wrote every time as
// UTC with exactly three fractional digits ("2016-01-04T15:31:51.081Z"), which
// time.Time's own JSON form does not (it trims zeros and keeps the zone).
package apitime

import "time"

// Layout is GitLab 8.7's timestamp layout.
const Layout = "2006-01-02T15:04:05.000Z07:00"

// Time is a time.Time that marshals the way GitLab did. The time is not
// embedded, so that time.Time's own MarshalJSON is not promoted over ours.
type Time struct{ t time.Time }

// From converts t.
func From(t time.Time) Time { return Time{t} }

// FromPtr converts a nullable time.
func FromPtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	return &Time{*t}
}

// Std returns the time.Time.
func (t Time) Std() time.Time { return t.t }

func (t Time) String() string { return t.t.UTC().Format(Layout) }

// MarshalText writes UTC with milliseconds. encoding/json quotes it; being
// a TextMarshaler rather than a json.Marshaler spares the encoder a
// validation pass over every timestamp.
func (t Time) MarshalText() ([]byte, error) {
	return t.t.UTC().AppendFormat(make([]byte, 0, len(Layout)), Layout), nil
}

// UnmarshalText accepts any RFC 3339 time (JSON strings and parameters).
func (t *Time) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return err
	}
	t.t = v
	return nil
}
