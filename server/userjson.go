package server

// The user list's JSON, written by hand. GET /users is the list every
// client pages through, and encoding/json's reflection over 26 fields of
// 20 users was a tenth of its time. The bytes are exactly encoding/json's
// (TestUserListJSONIsEncodingJSON fills every field of the generated types,
// so a field added to the contract and missed here fails it).

import (
	"encoding/json"
	"slices"
	"strconv"

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

func (l userFullList) appendJSON(b []byte) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = slices.Grow(b, 2+len(l)*900) // a user with a Gravatar URL is ~800 bytes
	b = append(b, '[')
	for i := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUserFull(b, &l[i])
	}
	return append(b, ']')
}

func (l userBasicList) appendJSON(b []byte) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = slices.Grow(b, 2+len(l)*250)
	b = append(b, '[')
	for i := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUserBasic(b, &l[i])
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

// appendJSONString quotes s as encoding/json does. Printable ASCII that
// needs no escape (HTML's <, > and & included, which encoding/json
// escapes) is copied; anything else is left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
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
