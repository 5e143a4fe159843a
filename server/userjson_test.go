package server

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/server/apitime"
)

// The hand-written user list JSON is byte for byte what encoding/json
// writes for the generated types, for every field the contract gives them:
// each field is filled by reflection, so a field the writer misses, or a
// type it does not know, fails here.
func TestUserListJSONIsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewSource(87))
	for round := 0; round < 500; round++ {
		full := make(userFullList, rng.Intn(4))
		for i := range full {
			fill(t, rng, reflect.ValueOf(&full[i]).Elem())
		}
		basic := make(userBasicList, rng.Intn(4))
		for i := range basic {
			fill(t, rng, reflect.ValueOf(&basic[i]).Elem())
		}
		same(t, full.appendJSON(nil), []v3api.UserFull(full))
		same(t, basic.appendJSON(nil), []v3api.UserBasic(basic))
	}
	same(t, userFullList(nil).appendJSON(nil), []v3api.UserFull(nil))
	same(t, userBasicList(nil).appendJSON(nil), []v3api.UserBasic(nil))
}

func same(t *testing.T, got []byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("hand-written JSON:\n%s\nencoding/json:\n%s", got, want)
	}
}

// Strings that take every path of the encoder: plain, HTML, quotes and
// backslashes, control bytes, non-ASCII, invalid UTF-8, JavaScript's line
// separators.
var jsonStrings = []string{
	"", "plain", "http://www.gravatar.com/avatar/0a1b?s=80&d=identicon", "<script>", `quote " and \ back`,
	"tab\there\nnew\r\x01\x7f\b\f\x1f", "Ünïcødé 名前 😀", "bad \xff\xfe utf8", "line\u2028sep\u2029", "~!@#$%^*()_+{}|:?",
}

// fill sets every field of v to a random value of its kind.
func fill(t *testing.T, rng *rand.Rand, v reflect.Value) {
	t.Helper()
	if v.Type() == reflect.TypeOf(apitime.Time{}) {
		sec := rng.Int63n(4102444800) - 62135596800/64
		zone := time.FixedZone("", (rng.Intn(27)-12)*3600+rng.Intn(2)*1800)
		v.Set(reflect.ValueOf(apitime.From(time.Unix(sec, rng.Int63n(1e9)).In(zone))))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(t, rng, v.Field(i))
		}
	case reflect.Pointer:
		if rng.Intn(3) == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(t, rng, p.Elem())
		v.Set(p)
	case reflect.Slice:
		switch rng.Intn(3) {
		case 0:
			v.Set(reflect.Zero(v.Type()))
		default:
			s := reflect.MakeSlice(v.Type(), rng.Intn(3), 3)
			for i := 0; i < s.Len(); i++ {
				fill(t, rng, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.String:
		v.SetString(jsonStrings[rng.Intn(len(jsonStrings))])
	case reflect.Bool:
		v.SetBool(rng.Intn(2) == 1)
	case reflect.Int:
		v.SetInt(rng.Int63n(1<<40) - 1<<39)
	default:
		t.Fatalf("fill: a field of kind %s (%s): teach the user list writer and this test about it", v.Kind(), v.Type())
	}
}

// The Gravatar URL is 8.7's, whether computed or kept from before.
func TestAvatarURL(t *testing.T) {
	const want = "http://www.gravatar.com/avatar/9e26471d35a78862c17e467d87cddedf?s=80&d=identicon" // md5("jane@example.com")
	for i := 0; i < 2; i++ {
		if got := avatarURL(" Jane@Example.com "); *got != want {
			t.Fatalf("call %d: %s, want %s", i+1, *got, want)
		}
	}
	if a, b := avatarURL("x@example.com"), avatarURL("x@example.com"); a == b {
		t.Fatal("two callers share one string pointer")
	}
}
