package server

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/server/apitime"
)

// The user entities of lib/api/entities.rb, each built on the one below it:
// UserSafe → UserBasic → User → UserFull → UserLogin.

// avatarURL is the Gravatar URL 8.7 gave a user without an uploaded avatar.
// It is a function of the email alone, so the URLs of the emails seen
// lately are kept: a page of 20 users hashed 20 emails every time.
func avatarURL(email string) *string {
	gravatars.RLock()
	u, ok := gravatars.m[email]
	gravatars.RUnlock()
	if !ok {
		sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
		u = "http://www.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?s=80&d=identicon"
		gravatars.Lock()
		if len(gravatars.m) >= 10000 {
			clear(gravatars.m)
		}
		gravatars.m[email] = u
		gravatars.Unlock()
	}
	return &u
}

var gravatars = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

func (s *Server) userWebURL(u *persistence.User) string {
	return s.url("/u/" + u.Username)
}

func (s *Server) presentUserBasic(u *persistence.User) v3api.UserBasic {
	return v3api.UserBasic{
		Name: u.Name, Username: u.Username, ID: int(u.ID),
		State: v3api.UserBasicState(u.State), AvatarURL: avatarURL(u.Email), WebURL: s.userWebURL(u),
	}
}

func (s *Server) presentUser(u *persistence.User) v3api.User {
	b := s.presentUserBasic(u)
	return v3api.User{
		Name: b.Name, Username: b.Username, ID: b.ID, State: v3api.UserState(b.State),
		AvatarURL: b.AvatarURL, WebURL: b.WebURL,
		CreatedAt: apitime.From(u.CreatedAt), IsAdmin: u.Admin, Bio: u.Bio, Location: u.Location,
		Skype: u.Skype, Linkedin: u.Linkedin, Twitter: u.Twitter, WebsiteURL: u.WebsiteURL,
	}
}

func (s *Server) presentUserFull(u *persistence.User) v3api.UserFull {
	b := s.presentUser(u)
	identities := make([]v3api.Identity, len(u.Identities))
	for i, id := range u.Identities {
		identities[i] = v3api.Identity{Provider: id.Provider, ExternUID: id.ExternUID}
	}
	return v3api.UserFull{
		Name: b.Name, Username: b.Username, ID: b.ID, State: v3api.UserFullState(b.State),
		AvatarURL: b.AvatarURL, WebURL: b.WebURL, CreatedAt: b.CreatedAt, IsAdmin: b.IsAdmin,
		Bio: b.Bio, Location: b.Location, Skype: b.Skype, Linkedin: b.Linkedin, Twitter: b.Twitter,
		WebsiteURL:   b.WebsiteURL,
		LastSignInAt: apitime.FromPtr(u.LastSignInAt), ConfirmedAt: apitime.FromPtr(u.ConfirmedAt),
		Email: u.Email, ThemeID: u.ThemeID, ColorSchemeID: u.ColorSchemeID, ProjectsLimit: u.ProjectsLimit,
		CurrentSignInAt: apitime.FromPtr(u.CurrentSignInAt), Identities: identities,
		CanCreateGroup: u.CanCreateGroup,
		// Projects do not exist yet; once they do, this is the limit left.
		CanCreateProject: u.ProjectsLimit > 0,
		TwoFactorEnabled: u.TwoFactorEnabled, External: u.External,
	}
}

func (s *Server) presentUserLogin(u *persistence.User) v3api.UserLogin {
	f := s.presentUserFull(u)
	return v3api.UserLogin{
		Name: f.Name, Username: f.Username, ID: f.ID, State: v3api.UserLoginState(f.State),
		AvatarURL: f.AvatarURL, WebURL: f.WebURL, CreatedAt: f.CreatedAt, IsAdmin: f.IsAdmin,
		Bio: f.Bio, Location: f.Location, Skype: f.Skype, Linkedin: f.Linkedin, Twitter: f.Twitter,
		WebsiteURL: f.WebsiteURL, LastSignInAt: f.LastSignInAt, ConfirmedAt: f.ConfirmedAt,
		Email: f.Email, ThemeID: f.ThemeID, ColorSchemeID: f.ColorSchemeID, ProjectsLimit: f.ProjectsLimit,
		CurrentSignInAt: f.CurrentSignInAt, Identities: f.Identities, CanCreateGroup: f.CanCreateGroup,
		CanCreateProject: f.CanCreateProject, TwoFactorEnabled: f.TwoFactorEnabled, External: f.External,
		PrivateToken: u.PrivateToken,
	}
}

// presentDeletedUser is the raw row 8.7 answered a DELETE with, less the
// columns Devise never serialized (password hash, tokens, sign-in data).
func presentDeletedUser(u *persistence.User) v3api.DeletedUser {
	created, updated := apitime.From(u.CreatedAt), apitime.From(u.UpdatedAt)
	return v3api.DeletedUser{
		ID: int(u.ID), Email: u.Email, Name: &u.Name, Username: u.Username, State: &u.State,
		Admin: &u.Admin, Bio: u.Bio, Location: u.Location, Skype: &u.Skype, Linkedin: &u.Linkedin,
		Twitter: &u.Twitter, WebsiteURL: &u.WebsiteURL, ProjectsLimit: &u.ProjectsLimit,
		CanCreateGroup: &u.CanCreateGroup, External: &u.External, ThemeID: &u.ThemeID,
		ColorSchemeID: &u.ColorSchemeID, CreatedAt: &created, UpdatedAt: &updated,
	}
}

func presentSSHKey(k *persistence.Key) v3api.SSHKey {
	return v3api.SSHKey{ID: int(k.ID), Title: k.Title, Key: k.Key, CreatedAt: apitime.From(k.CreatedAt)}
}

func presentSSHKeys(keys []persistence.Key) []v3api.SSHKey {
	out := make([]v3api.SSHKey, len(keys))
	for i := range keys {
		out[i] = presentSSHKey(&keys[i])
	}
	return out
}

func presentDeletedKey(k *persistence.Key) v3api.DeletedKey {
	created, updated := apitime.From(k.CreatedAt), apitime.From(k.UpdatedAt)
	var userID *int
	if k.UserID != nil {
		id := int(*k.UserID)
		userID = &id
	}
	return v3api.DeletedKey{
		ID: int(k.ID), UserID: userID, Title: k.Title, Key: k.Key, Fingerprint: &k.Fingerprint,
		CreatedAt: &created, UpdatedAt: &updated,
	}
}

func presentEmail(e *persistence.Email) v3api.Email {
	return v3api.Email{ID: int(e.ID), Email: e.Email}
}

func presentEmails(emails []persistence.Email) []v3api.Email {
	out := make([]v3api.Email, len(emails))
	for i := range emails {
		out[i] = presentEmail(&emails[i])
	}
	return out
}

func presentDeletedEmail(e *persistence.Email) v3api.DeletedEmail {
	created, updated := apitime.From(e.CreatedAt), apitime.From(e.UpdatedAt)
	userID := int(e.UserID)
	return v3api.DeletedEmail{ID: int(e.ID), UserID: &userID, Email: e.Email, CreatedAt: &created, UpdatedAt: &updated}
}

func presentNamespace(n *persistence.Namespace) v3api.Namespace {
	return v3api.Namespace{ID: int(n.ID), Path: n.Path, Kind: v3api.NamespaceKind(n.Kind())}
}
