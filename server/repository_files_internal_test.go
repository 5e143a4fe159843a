package server

import "testing"

// decodeBase64Lenient decodes as Ruby's Base64.decode64, which 8.7's files
// API used for encoding=base64: never an error, whatever it is sent.
func TestDecodeBase64Lenient(t *testing.T) {
	for _, row := range []struct{ name, in, want string }{
		{"padded", "aGVsbG8=", "hello"},
		{"unpadded", "aGVsbG8", "hello"},
		{"line breaks and spaces skipped", "aGVs\nbG8g d29y\r\nbGQ=", "hello world"},
		{"stops at padding", "aGk=aGVsbG8=", "hi"},
		{"a lone trailing character dropped", "aGVsbG8hx", "hello!"},
		{"nothing valid", "***", ""},
	} {
		t.Run(row.name, func(t *testing.T) {
			if got := string(decodeBase64Lenient(row.in)); got != row.want {
				t.Errorf("decodeBase64Lenient(%q) = %q, want %q", row.in, got, row.want)
			}
		})
	}
}
