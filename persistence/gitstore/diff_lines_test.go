package gitstore

import (
	"reflect"
	"testing"
)

func TestDiffLines(t *testing.T) {
	rows := []struct {
		name string
		text string
		want []DiffLine
	}{
		{
			name: "new file: the top hunk is skipped",
			text: "--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n",
			want: []DiffLine{{"new", 0, 1}, {"new", 0, 2}},
		},
		{
			name: "an edit further down keeps its hunk header",
			text: "--- a/b.txt\n+++ b/b.txt\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n\\ No newline at end of file\n",
			want: []DiffLine{{"match", 3, 3}, {"", 3, 3}, {"old", 4, 4}, {"new", 5, 4}, {"", 5, 5}, {"nonewline", 6, 6}},
		},
		{
			name: "no patch",
			text: "",
			want: nil,
		},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if got := DiffLines(row.text); !reflect.DeepEqual(got, row.want) {
				t.Errorf("DiffLines = %+v, want %+v", got, row.want)
			}
		})
	}
}

func TestLineCode(t *testing.T) {
	// The SHA-1 of the path (sha1sum of "a.txt"), the old and the new line.
	if got, want := LineCode("a.txt", 0, 1), "cfc7b4885384957ae445bc14914d4588f607651c_0_1"; got != want {
		t.Errorf("LineCode = %q, want %q", got, want)
	}
}
