package server

// The user list's JSON, written by hand. GET /users is the list every
// client pages through, and encoding/json's reflection over 26 fields of
// 20 users was a tenth of its time. The bytes are exactly encoding/json's
// (TestUserListJSONIsEncodingJSON fills every field of the generated types,
// so a field added to the contract and missed here fails it).

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/server/apitime"
)

// jsonAppender is a body that writes its own JSON.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// userFullList is GET /users for an administrator.
type userFullList []v3api.UserFull

// userBasicList is GET /users for anyone else.
type userBasicList []v3api.UserBasic

// A user with a Gravatar URL is ~800 bytes in full, ~250 basic.
func (l userFullList) appendJSON(b []byte) []byte  { return appendList(b, l, 900, appendUserFull) }
func (l userBasicList) appendJSON(b []byte) []byte { return appendList(b, l, 250, appendUserBasic) }

// appendList writes items as a JSON array (null when nil, as encoding/json
// writes a nil slice), growing b once by about size bytes an item.
func appendList[T any](b []byte, items []T, size int, item func([]byte, *T) []byte) []byte {
	if items == nil {
		return append(b, "null"...)
	}
	b = slices.Grow(b, 2+len(items)*size)
	b = append(b, '[')
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = item(b, &items[i])
	}
	return append(b, ']')
}

// appendUserFull writes u's fields in the generated struct's order, as
// encoding/json does.
func appendUserFull(b []byte, u *v3api.UserFull) []byte {
	b = append(b, `{"avatar_url":`...)
	b = appendJSONStringPtr(b, u.AvatarURL)
	b = append(b, `,"bio":`...)
	b = appendJSONStringPtr(b, u.Bio)
	b = append(b, `,"can_create_group":`...)
	b = strconv.AppendBool(b, u.CanCreateGroup)
	b = append(b, `,"can_create_project":`...)
	b = strconv.AppendBool(b, u.CanCreateProject)
	b = append(b, `,"color_scheme_id":`...)
	b = strconv.AppendInt(b, int64(u.ColorSchemeID), 10)
	b = append(b, `,"confirmed_at":`...)
	b = appendJSONTimePtr(b, u.ConfirmedAt)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, u.CreatedAt)
	b = append(b, `,"current_sign_in_at":`...)
	b = appendJSONTimePtr(b, u.CurrentSignInAt)
	b = append(b, `,"email":`...)
	b = appendJSONString(b, u.Email)
	b = append(b, `,"external":`...)
	b = strconv.AppendBool(b, u.External)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, int64(u.ID), 10)
	b = append(b, `,"identities":`...)
	if u.Identities == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range u.Identities {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"extern_uid":`...)
			b = appendJSONString(b, id.ExternUID)
			b = append(b, `,"provider":`...)
			b = appendJSONString(b, id.Provider)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"is_admin":`...)
	b = strconv.AppendBool(b, u.IsAdmin)
	b = append(b, `,"last_sign_in_at":`...)
	b = appendJSONTimePtr(b, u.LastSignInAt)
	b = append(b, `,"linkedin":`...)
	b = appendJSONString(b, u.Linkedin)
	b = append(b, `,"location":`...)
	b = appendJSONStringPtr(b, u.Location)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, u.Name)
	b = append(b, `,"projects_limit":`...)
	b = strconv.AppendInt(b, int64(u.ProjectsLimit), 10)
	b = append(b, `,"skype":`...)
	b = appendJSONString(b, u.Skype)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, string(u.State))
	b = append(b, `,"theme_id":`...)
	b = strconv.AppendInt(b, int64(u.ThemeID), 10)
	b = append(b, `,"twitter":`...)
	b = appendJSONString(b, u.Twitter)
	b = append(b, `,"two_factor_enabled":`...)
	b = strconv.AppendBool(b, u.TwoFactorEnabled)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, u.Username)
	b = append(b, `,"web_url":`...)
	b = appendJSONString(b, u.WebURL)
	b = append(b, `,"website_url":`...)
	b = appendJSONString(b, u.WebsiteURL)
	return append(b, '}')
}

func appendUserBasic(b []byte, u *v3api.UserBasic) []byte {
	b = append(b, `{"avatar_url":`...)
	b = appendJSONStringPtr(b, u.AvatarURL)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, int64(u.ID), 10)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, u.Name)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, string(u.State))
	b = append(b, `,"username":`...)
	b = appendJSONString(b, u.Username)
	b = append(b, `,"web_url":`...)
	b = appendJSONString(b, u.WebURL)
	return append(b, '}')
}

// appendJSONString quotes s as encoding/json does: HTML's <, > and &
// escaped, control characters as \n, \r, \t, \b, \f or \u00XX, invalid UTF-8 as
// \ufffd, and U+2028 and U+2029 escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default: // other control characters, <, > and &
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendJSONTime writes t as its MarshalText does, quoted: the layout's
// digits and signs need no escape.
func appendJSONTime(b []byte, t apitime.Time) []byte {
	b = append(b, '"')
	b = t.Std().UTC().AppendFormat(b, apitime.Layout)
	return append(b, '"')
}

func appendJSONTimePtr(b []byte, t *apitime.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendJSONTime(b, *t)
}
