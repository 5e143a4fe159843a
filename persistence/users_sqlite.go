package persistence

// The user rows on SQLite, read as one JSON array per row: mattn/go-sqlite3
// crosses cgo two or three times per column, which made the 26 columns of
// 20 users most of GET /users' time; json_array hands SQLite's values over
// in one text column. The values are converted exactly as the driver
// converts the columns; any value it would read differently (a time stored
// as a number, a BLOB) sends the query back to the column-wise path.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
)

// userJSONSelect selects userColumns, in their order, as one JSON array.
const userJSONSelect = "SELECT json_array(" + userColumns + ")"

// errRowShape is a row the JSON path cannot read as the driver would.
var errRowShape = errors.New("persistence: row needs the column-wise read")

// queryUsersJSON runs q (which selects userColumns) with the columns as one
// JSON array per row.
func (s *Store) queryUsersJSON(ctx context.Context, q string, args ...any) ([]User, error) {
	rows, err := s.read(ctx).Raw(userJSONSelect+strings.TrimPrefix(q, "SELECT "+userColumns), args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := []User{}
	var raw sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var u User
		// One copy of the row; its strings are slices of it.
		if err := u.fromJSONRow(string(raw)); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// listUsersJSON is ListUsers' page on SQLite in one statement that yields
// one row: the count of the users cond selects (unless the count is kept,
// see readCache), and the page as the comma-joined json_arrays of each
// user's columns followed by whether it has an identity (most have none,
// which spares the identities query). One row means one step through cgo
// for the whole page instead of one per user.
func (s *Store) listUsersJSON(ctx context.Context, cond string, args []any, pg Page, withIdentities bool) ([]User, int64, error) {
	totalKey := cond + "\x00" + fmt.Sprintf("%q", args)
	writes := s.writes.Load()
	total, counted := s.userTotals.get(totalKey, writes)
	count, all := "NULL", append([]any{}, args...)
	if !counted {
		count, all = "(SELECT count(*) FROM users"+cond+")", append(all, args...)
	}
	window := ""
	if pg.Limit > 0 {
		window = " LIMIT ? OFFSET ?"
		all = append(all, pg.Limit, pg.Offset)
	}
	// group_concat joins the rows in the order the page yields them, which
	// is id order; the order is checked below rather than asked of the
	// aggregate, which would sort 20 rows of JSON again.
	q := "SELECT " + count + ", (SELECT group_concat(j, ',') FROM (SELECT json_array(" + userColumns + ", " +
		"EXISTS (SELECT 1 FROM identities WHERE identities.user_id = users.id)) AS j FROM users" + cond +
		" ORDER BY id" + window + "))"
	at := time.Now()
	var dbTotal sql.NullInt64
	var page sql.NullString
	if err := s.preparedRow(ctx, q, all...).Scan(&dbTotal, &page); err != nil {
		return nil, 0, err
	}
	if !counted {
		total = dbTotal.Int64
		s.userTotals.put(totalKey, total, writes, at, s.writes.Load())
	}
	// A User is big: grow the slice once.
	users := make([]User, 0, min(max(pg.Limit, 1), 100))
	if !page.Valid { // past the end, or none
		return users, total, nil
	}
	r := jsonRow{b: page.String}
	anyHas := false
	for {
		var u User
		var has bool
		if !u.readJSON(&r, &has) {
			return nil, 0, errRowShape
		}
		anyHas = anyHas || has
		users = append(users, u)
		if r.i == len(r.b) {
			break
		}
		if r.b[r.i] != ',' {
			return nil, 0, errRowShape
		}
		r.i++
	}
	if !slices.IsSortedFunc(users, func(a, b User) int { return cmp.Compare(a.ID, b.ID) }) {
		slices.SortFunc(users, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	}
	if withIdentities && !anyHas {
		for i := range users {
			users[i].Identities = []Identity{}
		}
		return users, total, nil
	}
	users, err := s.withIdentities(ctx, withIdentities, users)
	return users, total, err
}

// fromJSONRow fills u from a json_array of userColumns.
func (u *User) fromJSONRow(raw string) error {
	r := jsonRow{b: raw}
	if !u.readJSON(&r, nil) || r.i != len(r.b) {
		return errRowShape
	}
	return nil
}

// readJSON reads one json_array of userColumns at r's position, with one
// more boolean after them when extra is not nil; false when the array is
// not one the driver would read the same way.
func (u *User) readJSON(r *jsonRow, extra *bool) bool {
	if !r.open() {
		return false
	}
	r.int64(&u.ID)
	r.str(&u.Email)
	r.str(&u.EncryptedPassword)
	r.str(&u.Name)
	r.str(&u.Username)
	r.str(&u.State)
	r.bool(&u.Admin)
	r.strPtr(&u.Bio)
	r.strPtr(&u.Location)
	r.str(&u.Skype)
	r.str(&u.Linkedin)
	r.str(&u.Twitter)
	r.str(&u.WebsiteURL)
	r.int(&u.ProjectsLimit)
	r.bool(&u.CanCreateGroup)
	r.bool(&u.External)
	r.int(&u.ThemeID)
	r.int(&u.ColorSchemeID)
	r.bool(&u.TwoFactorEnabled)
	r.str(&u.PrivateToken)
	r.timePtr(&u.ConfirmedAt)
	r.timePtr(&u.LastSignInAt)
	r.timePtr(&u.CurrentSignInAt)
	r.int(&u.SignInCount)
	r.time(&u.CreatedAt)
	r.time(&u.UpdatedAt)
	if extra != nil {
		r.bool(extra)
	}
	return r.close()
}

// jsonRow reads the scalars of flat JSON arrays as SQLite's json_array
// writes them: no whitespace, strings, integers, null. The first value it
// cannot take marks the row bad.
type jsonRow struct {
	b     string
	i     int
	first bool
	bad   bool
}

// open starts reading the array at r's position.
func (r *jsonRow) open() bool {
	if r.bad || r.i >= len(r.b) || r.b[r.i] != '[' {
		return false
	}
	r.i, r.first = r.i+1, true
	return true
}

// close ends the array: its values all read, r moves past its bracket.
func (r *jsonRow) close() bool {
	if r.bad || r.i >= len(r.b) || r.b[r.i] != ']' {
		return false
	}
	r.i++
	return true
}

// next returns the next value's raw text: a string's content (unescaped
// when it has escapes, isString true), or a number or null as written.
func (r *jsonRow) next() (val string, isString bool) {
	if r.bad {
		return "", false
	}
	if !r.first {
		if r.i >= len(r.b) || r.b[r.i] != ',' {
			r.bad = true
			return "", false
		}
		r.i++
	}
	r.first = false
	if r.i >= len(r.b) {
		r.bad = true
		return "", false
	}
	if r.b[r.i] != '"' {
		end := r.i
		for end < len(r.b) && r.b[end] != ',' && r.b[end] != ']' {
			end++
		}
		val, r.i = r.b[r.i:end], end
		return val, false
	}
	start, escaped := r.i+1, false
	end := start
	for ; end < len(r.b) && r.b[end] != '"'; end++ {
		if r.b[end] == '\\' {
			escaped = true
			end++
		}
	}
	if end >= len(r.b) {
		r.bad = true
		return "", false
	}
	r.i = end + 1
	if !escaped {
		return r.b[start:end], true
	}
	var s string
	// json.Unmarshal would replace invalid UTF-8, which the driver keeps.
	if !utf8.ValidString(r.b[start:end]) || json.Unmarshal([]byte(r.b[start-1:end+1]), &s) != nil {
		r.bad = true
	}
	return s, true
}

func (r *jsonRow) str(dst *string) {
	v, ok := r.next()
	if !ok {
		r.bad = true
	}
	*dst = v
}

func (r *jsonRow) strPtr(dst **string) {
	v, ok := r.next()
	switch {
	case ok:
		*dst = &v
	case v == "null":
		*dst = nil
	default:
		r.bad = true
	}
}

func (r *jsonRow) int64(dst *int64) {
	v, ok := r.next()
	n, err := strconv.ParseInt(v, 10, 64)
	if ok || err != nil {
		r.bad = true
	}
	*dst = n
}

func (r *jsonRow) int(dst *int) {
	var n int64
	r.int64(&n)
	*dst = int(n)
}

// bool is the driver's reading of a BOOLEAN column holding an integer.
func (r *jsonRow) bool(dst *bool) {
	var n int64
	r.int64(&n)
	*dst = n > 0
}

// time is the driver's reading of a DATETIME column holding text (no
// _loc in the DSN, so no conversion after parsing).
func (r *jsonRow) time(dst *time.Time) {
	v, ok := r.next()
	if !ok {
		r.bad = true
		return
	}
	*dst = sqliteTime(v)
}

func (r *jsonRow) timePtr(dst **time.Time) {
	v, ok := r.next()
	switch {
	case ok:
		t := sqliteTime(v)
		*dst = &t
	case v == "null":
		*dst = nil
	default:
		r.bad = true
	}
}

// sqliteTime is mattn/go-sqlite3's parse of a DATETIME text value.
func sqliteTime(s string) time.Time {
	if t, ok := parseCanonicalTime(s); ok {
		return t
	}
	s = strings.TrimSuffix(s, "Z")
	for _, format := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(format, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseCanonicalTime reads the form the driver writes times in,
// "2006-01-02 15:04:05.999999999-07:00", giving what time.ParseInLocation
// in UTC gives; ok false for anything else (sqliteTime then tries every
// format as the driver does).
func parseCanonicalTime(s string) (t time.Time, ok bool) {
	// YYYY-MM-DD HH:MM:SS[.fraction]±HH:MM
	if len(s) < 25 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(part string) int {
		n := 0
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(s[0:4]), num(s[5:7]), num(s[8:10])
	hour, minute, sec := num(s[11:13]), num(s[14:16]), num(s[17:19])
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		end := 1
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		digits := rest[1:end]
		if len(digits) == 0 || len(digits) > 9 {
			return time.Time{}, false
		}
		nsec = num(digits)
		for i := len(digits); i < 9; i++ {
			nsec *= 10
		}
		rest = rest[end:]
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return time.Time{}, false
	}
	zh, zm := num(rest[1:3]), num(rest[4:6])
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		sec < 0 || sec > 59 || zh < 0 || zh > 24 || zm < 0 || zm > 59 {
		return time.Time{}, false
	}
	off := (zh*60 + zm) * 60
	if rest[0] == '-' {
		off = -off
	}
	loc := time.UTC
	if off != 0 {
		loc = time.FixedZone("", off)
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day { // 31 April: Parse refuses it
		return time.Time{}, false
	}
	return t, true
}
