package apitime

import (
	"encoding/json"
	"testing"
	"time"
)

func TestJSON(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2016, 1, 4, 16, 31, 51, 81_000_000, loc), `"2016-01-04T15:31:51.081Z"`},
		{time.Date(2016, 1, 4, 15, 31, 51, 0, time.UTC), `"2016-01-04T15:31:51.000Z"`},
		{time.Date(2016, 1, 4, 15, 31, 51, 80_999_999, time.UTC), `"2016-01-04T15:31:51.080Z"`},
	} {
		b, err := json.Marshal(struct {
			T Time  `json:"t"`
			P *Time `json:"p"`
		}{From(tc.in), nil})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"t":` + tc.want + `,"p":null}`
		if string(b) != want {
			t.Errorf("got %s, want %s", b, want)
		}
		var back Time
		if err := json.Unmarshal([]byte(tc.want), &back); err != nil || !back.Std().Equal(tc.in.Truncate(time.Millisecond)) {
			t.Errorf("round trip of %s: got %v %v", tc.want, back, err)
		}
	}
}
