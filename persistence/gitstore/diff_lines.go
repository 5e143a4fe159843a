package gitstore

// The lines of a diff as GitLab 8.7's Gitlab::Diff::Parser numbered them,
// and Gitlab::Diff::LineCode, which names a line for a line comment.

import (
	"crypto/sha1"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// DiffLine is one line of a patch: its type ("new" added, "old" removed,
// "" context, "match" a hunk header, "nonewline" git's no-newline marker)
// and its old and new line numbers.
type DiffLine struct {
	Type           string
	OldPos, NewPos int
}

var (
	hunkOld = regexp.MustCompile(`-[0-9]*`)
	hunkNew = regexp.MustCompile(`\+[0-9]*`)
)

// DiffLines parses a Diff's Text (from its "---" line on).
func DiffLines(text string) []DiffLine {
	var out []DiffLine
	oldPos, newPos := 1, 1
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		if isDiffFileName(line) {
			continue
		}
		switch {
		case strings.HasPrefix(line, "@@ -"):
			oldPos = hunkPos(hunkOld.FindString(line))
			newPos = hunkPos(hunkNew.FindString(line))
			if oldPos <= 1 && newPos <= 1 {
				continue // the top of the file
			}
			out = append(out, DiffLine{Type: "match", OldPos: oldPos, NewPos: newPos})
			continue
		case line[0] == '\\':
			out = append(out, DiffLine{Type: "nonewline", OldPos: oldPos, NewPos: newPos})
		default:
			typ := ""
			switch line[0] {
			case '+':
				typ = "new"
			case '-':
				typ = "old"
			}
			out = append(out, DiffLine{Type: typ, OldPos: oldPos, NewPos: newPos})
		}
		switch line[0] {
		case '+':
			newPos++
		case '-':
			oldPos++
		case '\\':
		default:
			newPos++
			oldPos++
		}
	}
	return out
}

// isDiffFileName is the parser's filename? check: the patch's own header lines.
func isDiffFileName(line string) bool {
	for _, p := range []string{"--- /dev/null", "+++ /dev/null", "--- a", "+++ b"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// hunkPos is Ruby's "-12".to_i.abs: the number, or 0 without digits.
func hunkPos(s string) int {
	n, err := strconv.Atoi(strings.TrimLeft(s, "+-"))
	if err != nil {
		return 0
	}
	return n
}

// LineCode is Gitlab::Diff::LineCode.generate: the SHA-1 of the file's
// path, then the line's old and new numbers.
func LineCode(path string, oldPos, newPos int) string {
	sum := sha1.Sum([]byte(path))
	return hex.EncodeToString(sum[:]) + "_" + strconv.Itoa(oldPos) + "_" + strconv.Itoa(newPos)
}
