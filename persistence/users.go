package persistence

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// User states, as GitLab's state machine named them.
const (
	UserActive      = "active"
	UserBlocked     = "blocked"
	UserLDAPBlocked = "ldap_blocked"
)

// User is a row of users.
type User struct {
	ID                int64 `gorm:"primaryKey"`
	Email             string
	EncryptedPassword string
	Name              string
	Username          string
	State             string
	Admin             bool
	Bio               *string
	Location          *string
	Skype             string
	Linkedin          string
	Twitter           string
	WebsiteURL        string
	ProjectsLimit     int
	CanCreateGroup    bool
	External          bool
	ThemeID           int
	ColorSchemeID     int
	TwoFactorEnabled  bool
	PrivateToken      string
	ConfirmedAt       *time.Time
	LastSignInAt      *time.Time
	CurrentSignInAt   *time.Time
	SignInCount       int
	CreatedAt         time.Time
	UpdatedAt         time.Time

	Identities []Identity `gorm:"foreignKey:UserID"`
}

// Identity links a user to an external login provider.
type Identity struct {
	ID        int64 `gorm:"primaryKey"`
	UserID    int64
	Provider  string
	ExternUID string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Active reports whether the user may use the API.
func (u *User) Active() bool { return u.State == UserActive }

// UserParams are the attributes a create or update sets; nil means "not
// given", as GitLab's attributes_for_keys left absent and blank keys out.
type UserParams struct {
	Email, Name, Username, Password      *string
	Skype, Linkedin, Twitter, WebsiteURL *string
	Bio, Location                        *string
	ProjectsLimit                        *int
	CanCreateGroup, Admin, External      *bool
	Provider, ExternUID                  *string
	SkipConfirmation                     bool
}

// Defaults for new users, as a fresh GitLab 8.7 had them.
const (
	DefaultProjectsLimit = 10
	DefaultThemeID       = 1
	DefaultColorSchemeID = 1
)

var (
	// Devise's email_regexp.
	emailRE = regexp.MustCompile(`^[^@\s]+@([^@\s]+\.)+[^@\W]+$`)
	// Gitlab::Regex.namespace_regex.
	namespaceRE = regexp.MustCompile(`^[a-zA-Z0-9_.][a-zA-Z0-9_\-.]*$`)
)

const namespaceRegexMessage = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.'."

// reservedPaths are Gitlab::Blacklist.path: names a user or group may not take.
var reservedPaths = map[string]bool{
	"admin": true, "dashboard": true, "files": true, "groups": true, "help": true, "profile": true,
	"projects": true, "search": true, "public": true, "assets": true, "u": true, "s": true,
	"teams": true, "merge_requests": true, "issues": true, "users": true, "snippets": true,
	"services": true, "repository": true, "hooks": true, "notes": true, "unsubscribes": true,
	"all": true, "ci": true, "api": true, "-": true,
}

func (s *Store) now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// NewToken returns a random token of n letters and digits.
func NewToken(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (p *UserParams) apply(u *User) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Email, p.Email)
	set(&u.Name, p.Name)
	set(&u.Username, p.Username)
	set(&u.Skype, p.Skype)
	set(&u.Linkedin, p.Linkedin)
	set(&u.Twitter, p.Twitter)
	set(&u.WebsiteURL, p.WebsiteURL)
	if p.Bio != nil {
		u.Bio = p.Bio
	}
	if p.Location != nil {
		u.Location = p.Location
	}
	if p.ProjectsLimit != nil {
		u.ProjectsLimit = *p.ProjectsLimit
	}
	if p.CanCreateGroup != nil {
		u.CanCreateGroup = *p.CanCreateGroup
	}
	if p.Admin != nil {
		u.Admin = *p.Admin
	}
	if p.External != nil {
		u.External = *p.External
	}
	u.Email = strings.TrimSpace(u.Email)
	// 8.7's ensure_external_user_rights: external users create nothing.
	if u.External {
		u.ProjectsLimit, u.CanCreateGroup = 0, false
	}
}

// validateUser checks what the model checked, before touching other rows.
func validateUser(u *User, password *string, isNew bool) *ValidationError {
	v := &ValidationError{}
	if strings.TrimSpace(u.Name) == "" {
		v.Add("name", msgBlank)
	} else if len(u.Name) > 255 {
		v.Add("name", msgTooLong(255))
	}
	switch {
	case strings.TrimSpace(u.Email) == "":
		v.Add("email", msgBlank)
	case !emailRE.MatchString(u.Email):
		v.Add("email", msgInvalid)
	}
	if isNew || password != nil {
		pw := ""
		if password != nil {
			pw = *password
		}
		switch {
		case pw == "":
			v.Add("password", msgBlank)
		case len(pw) < 8:
			v.Add("password", msgTooShort(8))
		case len(pw) > 128:
			v.Add("password", msgTooLong(128))
		}
	}
	if u.Bio != nil && len(*u.Bio) > 255 {
		v.Add("bio", msgTooLong(255))
	}
	if u.ProjectsLimit < 0 {
		v.Add("projects_limit", "must be greater than or equal to 0")
	}
	switch {
	case u.Username == "":
		v.Add("username", msgBlank)
	case len(u.Username) > 255:
		v.Add("username", msgTooLong(255))
	case !namespaceRE.MatchString(u.Username) || strings.HasSuffix(u.Username, "."):
		v.Add("username", namespaceRegexMessage)
	case reservedPaths[strings.ToLower(u.Username)]:
		v.Add("username", "is reserved")
	}
	return v
}

// checkUserUnique adds the uniqueness errors: email against other users and
// all secondary emails, username against other users and every namespace.
func checkUserUnique(tx *gorm.DB, u *User, v *ValidationError) error {
	if u.Email != "" && !v.Has("email", msgInvalid) {
		var n int64
		if err := tx.Model(&User{}).Where("lower(email) = lower(?) AND id <> ?", u.Email, u.ID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			if err := tx.Model(&Email{}).Where("lower(email) = lower(?)", u.Email).Count(&n).Error; err != nil {
				return err
			}
		}
		if n > 0 {
			v.Add("email", msgTaken)
		}
	}
	if u.Username != "" && !v.Has("username", namespaceRegexMessage) {
		var n int64
		if err := tx.Model(&User{}).Where("lower(username) = lower(?) AND id <> ?", u.Username, u.ID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			q := tx.Model(&Namespace{}).Where("lower(path) = lower(?)", u.Username)
			if u.ID != 0 {
				q = q.Where("NOT (owner_id = ? AND type IS NULL)", u.ID)
			}
			if err := q.Count(&n).Error; err != nil {
				return err
			}
		}
		if n > 0 {
			v.Add("username", msgTaken)
		}
	}
	return nil
}

// EmailTaken reports whether another user than exceptID has email as primary address.
func (s *Store) EmailTaken(ctx context.Context, email string, exceptID int64) (bool, error) {
	var n int64
	err := s.read(ctx).Model(&User{}).Where("lower(email) = lower(?) AND id <> ?", email, exceptID).Count(&n).Error
	return n > 0, err
}

// UsernameTaken reports whether another user than exceptID has username.
func (s *Store) UsernameTaken(ctx context.Context, username string, exceptID int64) (bool, error) {
	var n int64
	err := s.read(ctx).Model(&User{}).Where("lower(username) = lower(?) AND id <> ?", username, exceptID).Count(&n).Error
	return n > 0, err
}

func (s *Store) hashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.bcryptCost)
	return string(h), err
}

// CreateUser validates and inserts a user with their personal namespace and
// optional identity, in one transaction.
func (s *Store) CreateUser(ctx context.Context, p UserParams) (*User, error) {
	now := s.now()
	u := &User{
		State: UserActive, ProjectsLimit: DefaultProjectsLimit, CanCreateGroup: true,
		ThemeID: DefaultThemeID, ColorSchemeID: DefaultColorSchemeID,
		PrivateToken: NewToken(20), CreatedAt: now, UpdatedAt: now,
	}
	p.apply(u)
	if p.SkipConfirmation {
		u.ConfirmedAt = &now
	}
	v := validateUser(u, p.Password, true)
	// Hash outside the transaction: bcrypt takes tens of milliseconds and the
	// SQLite writer is a single connection.
	var hashed string
	if v.Empty() {
		var err error
		if hashed, err = s.hashPassword(*p.Password); err != nil {
			return nil, err
		}
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := checkUserUnique(tx, u, v); err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		u.EncryptedPassword = hashed
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		ns := &Namespace{Name: u.Username, Path: u.Username, OwnerID: &u.ID, CreatedAt: now, UpdatedAt: now, VisibilityLevel: 20}
		if err := tx.Create(ns).Error; err != nil {
			return err
		}
		return upsertIdentity(tx, u, p, now)
	})
	if err != nil {
		return nil, s.uniqueRace(ctx, err, u)
	}
	return s.GetUser(ctx, u.ID)
}

// uniqueRace turns a unique-index violation that slipped past the checks
// (two concurrent writers on PostgreSQL) into the validation error the
// checks would have given.
func (s *Store) uniqueRace(ctx context.Context, err error, u *User) error {
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return err
	}
	v := &ValidationError{}
	if cerr := checkUserUnique(s.read(ctx), u, v); cerr != nil {
		return cerr
	}
	if v.Empty() {
		v.Add("base", msgTaken)
	}
	return v
}

func upsertIdentity(tx *gorm.DB, u *User, p UserParams, now time.Time) error {
	if p.Provider == nil || p.ExternUID == nil {
		return nil
	}
	var id Identity
	err := tx.Where("user_id = ? AND provider = ?", u.ID, *p.Provider).Take(&id).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		id = Identity{UserID: u.ID, Provider: *p.Provider, ExternUID: *p.ExternUID, CreatedAt: now, UpdatedAt: now}
		err = tx.Create(&id).Error
	case err == nil:
		err = tx.Model(&id).Updates(map[string]any{"extern_uid": *p.ExternUID, "updated_at": now}).Error
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		v := &ValidationError{}
		v.Add("identities", msgInvalid)
		return v
	}
	return err
}

// UpdateUser applies p to user id in one transaction; the personal
// namespace follows a username change.
func (s *Store) UpdateUser(ctx context.Context, id int64, p UserParams) (*User, error) {
	var hashed string
	if p.Password != nil && len(*p.Password) >= 8 && len(*p.Password) <= 128 {
		var err error
		if hashed, err = s.hashPassword(*p.Password); err != nil {
			return nil, err
		}
	}
	var u User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&u, id).Error; err != nil {
			return notFound(err)
		}
		oldUsername := u.Username
		p.apply(&u)
		v := validateUser(&u, p.Password, false)
		if err := checkUserUnique(tx, &u, v); err != nil {
			return err
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		now := s.now()
		u.UpdatedAt = now
		if hashed != "" {
			u.EncryptedPassword = hashed
		}
		if err := tx.Select("*").Omit("Identities").Save(&u).Error; err != nil {
			return err
		}
		if u.Username != oldUsername {
			if err := tx.Model(&Namespace{}).Where("owner_id = ? AND type IS NULL", u.ID).
				Updates(map[string]any{"name": u.Username, "path": u.Username, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		return upsertIdentity(tx, &u, p, now)
	})
	if err != nil {
		return nil, s.uniqueRace(ctx, err, &u)
	}
	return s.GetUser(ctx, id)
}

// DeleteUser removes the user and everything that is theirs in one
// transaction, and returns the deleted row and the personal projects that
// went with it.
func (s *Store) DeleteUser(ctx context.Context, id int64) (*User, []Project, error) {
	var u User
	var personal []Project
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&u, id).Error; err != nil {
			return notFound(err)
		}
		// Their personal projects go with them, as 8.7's DeleteUserService
		// destroyed them.
		if err := tx.Preload("Namespace").Where("namespace_id IN (SELECT id FROM namespaces WHERE owner_id = ? AND type IS NULL)", id).
			Find(&personal).Error; err != nil {
			return err
		}
		ids := make([]int64, len(personal))
		for i, p := range personal {
			ids[i] = p.ID
		}
		if err := deleteProjects(tx, ids); err != nil {
			return err
		}
		for _, del := range []struct {
			model any
			where string
		}{
			{&Key{}, "user_id = ?"},
			{&Email{}, "user_id = ?"},
			{&Identity{}, "user_id = ?"},
			{&Member{}, "user_id = ?"},
			{&UsersStarProject{}, "user_id = ?"},
			{&ProjectAuthorization{}, "user_id = ?"},
			{&Namespace{}, "owner_id = ? AND type IS NULL"},
		} {
			if err := tx.Where(del.where, id).Delete(del.model).Error; err != nil {
				return err
			}
		}
		return tx.Delete(&User{}, id).Error
	})
	if err != nil {
		return nil, nil, err
	}
	return &u, personal, nil
}

// SetUserState moves a user between active and blocked. It reports whether
// the state changed (GitLab's state machine answered false for a
// transition that was not possible).
func (s *Store) SetUserState(ctx context.Context, id int64, from, to string) (bool, error) {
	res := s.write(ctx).Model(&User{}).Where("id = ? AND state = ?", id, from).
		Updates(map[string]any{"state": to, "updated_at": s.now()})
	return res.RowsAffected > 0, res.Error
}

// GetUser loads a user with their identities.
func (s *Store) GetUser(ctx context.Context, id int64) (*User, error) {
	users, err := s.queryUsers(ctx, true, "SELECT "+userColumns+" FROM users WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, ErrNotFound
	}
	return &users[0], nil
}

func orderByID(db *gorm.DB) *gorm.DB { return db.Order("id") }

// UserByToken finds the owner of a private token, whatever their state.
func (s *Store) UserByToken(ctx context.Context, token string) (*User, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	var writes uint64
	if s.tokens != nil {
		writes = s.writes.Load()
		if u, ok := s.tokens.get(token, writes); ok {
			u.Identities = slices.Clone(u.Identities) // the caller's own copy
			return &u, nil
		}
	}
	at := time.Now()
	users, err := s.queryUsers(ctx, false, "SELECT "+userColumns+" FROM users WHERE private_token = ?", token)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, ErrNotFound
	}
	if s.tokens != nil {
		kept := users[0]
		kept.Identities = slices.Clone(kept.Identities)
		s.tokens.put(token, kept, writes, at, s.writes.Load())
	}
	return &users[0], nil
}

// UserByUsernameOrID finds the user a sudo names: GitLab matched the
// username, or the id when the identifier was all digits.
func (s *Store) UserByUsernameOrID(ctx context.Context, ident string) (*User, error) {
	q := s.read(ctx).Where("lower(username) = lower(?)", ident)
	if n, err := strconv.ParseInt(ident, 10, 64); err == nil {
		q = s.read(ctx).Where("id = ? OR lower(username) = lower(?)", n, ident)
	}
	var u User
	if err := q.Order("id").Take(&u).Error; err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// Authenticate finds the user whose username or email is login and whose
// password matches. Any failure is ErrNotFound, so callers cannot tell an
// unknown login from a wrong password.
func (s *Store) Authenticate(ctx context.Context, login, password string) (*User, error) {
	if login == "" || password == "" {
		return nil, ErrNotFound
	}
	var u User
	err := s.read(ctx).Where("lower(username) = lower(?) OR lower(email) = lower(?)", login, login).
		Order("id").Take(&u).Error
	if err != nil {
		return nil, notFound(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.EncryptedPassword), []byte(password)) != nil {
		return nil, ErrNotFound
	}
	return &u, nil
}

// UserFilter selects users for a list.
type UserFilter struct {
	Username   string // exact match; when set, the others are ignored
	Search     string // name, email or username contains, case-insensitive
	ActiveOnly bool
	// WithIdentities loads each user's identities (UserFull shows them).
	WithIdentities bool
}

// Page is a window of a list.
type Page struct{ Offset, Limit int }

// ListUsers returns one page of users, oldest first, and the total. It is
// the hottest list, so it scans columns explicitly rather than through
// GORM's reflection.
func (s *Store) ListUsers(ctx context.Context, f UserFilter, pg Page) ([]User, int64, error) {
	var where []string
	var args []any
	switch {
	case f.Username != "":
		where, args = append(where, "username = ?"), append(args, f.Username)
	default:
		if f.ActiveOnly {
			where, args = append(where, "state = ?"), append(args, UserActive)
		}
		if f.Search != "" {
			like := "%" + escapeLike(strings.ToLower(f.Search)) + "%"
			where = append(where, `(lower(name) LIKE ? ESCAPE '\' OR lower(email) LIKE ? ESCAPE '\' OR lower(username) LIKE ? ESCAPE '\')`)
			args = append(args, like, like, like)
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if s.dialect == "sqlite" {
		users, total, err := s.listUsersJSON(ctx, cond, args, pg, f.WithIdentities)
		if !errors.Is(err, errRowShape) {
			return users, total, err
		}
	}
	var total int64
	if err := s.read(ctx).Raw("SELECT count(*) FROM users"+cond, args...).Row().Scan(&total); err != nil {
		return nil, 0, err
	}
	if total == 0 || int64(pg.Offset) >= total {
		return []User{}, total, nil
	}
	q := "SELECT " + userColumns + " FROM users" + cond + " ORDER BY id"
	if pg.Limit > 0 {
		q += " LIMIT ? OFFSET ?"
		args = append(args, pg.Limit, pg.Offset)
	}
	users, err := s.queryUsers(ctx, f.WithIdentities, q, args...)
	return users, total, err
}

const userColumns = "id, email, encrypted_password, name, username, state, admin, bio, location, " +
	"skype, linkedin, twitter, website_url, projects_limit, can_create_group, external, theme_id, " +
	"color_scheme_id, two_factor_enabled, private_token, confirmed_at, last_sign_in_at, " +
	"current_sign_in_at, sign_in_count, created_at, updated_at"

// queryUsers runs a SELECT of userColumns and, when asked, loads the
// identities of all the users in one more query.
func (s *Store) queryUsers(ctx context.Context, withIdentities bool, q string, args ...any) ([]User, error) {
	users, err := s.queryUserRows(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return s.withIdentities(ctx, withIdentities, users)
}

// queryUserRows runs q, a SELECT of userColumns: on SQLite as one JSON
// array per row (users_sqlite.go), unless a row needs the driver's reading.
func (s *Store) queryUserRows(ctx context.Context, q string, args ...any) ([]User, error) {
	if s.dialect == "sqlite" {
		users, err := s.queryUsersJSON(ctx, q, args...)
		if !errors.Is(err, errRowShape) {
			return users, err
		}
	}
	return s.queryUsersColumns(ctx, q, args...)
}

// queryUsersColumns is queryUserRows reading column by column.
func (s *Store) queryUsersColumns(ctx context.Context, q string, args ...any) ([]User, error) {
	rows, err := s.read(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Email, &u.EncryptedPassword, &u.Name, &u.Username, &u.State,
			&u.Admin, &u.Bio, &u.Location, &u.Skype, &u.Linkedin, &u.Twitter, &u.WebsiteURL,
			&u.ProjectsLimit, &u.CanCreateGroup, &u.External, &u.ThemeID, &u.ColorSchemeID,
			&u.TwoFactorEnabled, &u.PrivateToken, &u.ConfirmedAt, &u.LastSignInAt,
			&u.CurrentSignInAt, &u.SignInCount, &u.CreatedAt, &u.UpdatedAt); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// withIdentities loads the identities of all the users in one query, when asked.
func (s *Store) withIdentities(ctx context.Context, load bool, users []User) ([]User, error) {
	if !load || len(users) == 0 {
		return users, nil
	}
	ids := make([]int64, len(users))
	at := make(map[int64]int, len(users))
	for i := range users {
		ids[i], at[users[i].ID] = users[i].ID, i
		users[i].Identities = []Identity{}
	}
	// Scanned by hand: GORM's reflection cost as much as the query.
	rows, err := s.read(ctx).Raw("SELECT id, user_id, provider, extern_uid, created_at, updated_at FROM identities WHERE user_id IN ? ORDER BY id", ids).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var identities []Identity
	for rows.Next() {
		var id Identity
		if err := rows.Scan(&id.ID, &id.UserID, &id.Provider, &id.ExternUID, &id.CreatedAt, &id.UpdatedAt); err != nil {
			return nil, err
		}
		identities = append(identities, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range identities {
		u := &users[at[id.UserID]]
		u.Identities = append(u.Identities, id)
	}
	return users, nil
}

// listPage counts q and loads one page of it ordered by id.
func listPage[T any](q *gorm.DB, pg Page, scopes ...func(*gorm.DB) *gorm.DB) ([]T, int64, error) {
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	items := []T{}
	if total == 0 || int64(pg.Offset) >= total {
		return items, total, nil
	}
	q = q.Scopes(scopes...).Order("id").Offset(pg.Offset)
	if pg.Limit > 0 {
		q = q.Limit(pg.Limit)
	}
	if err := q.Find(&items).Error; err != nil {
		return nil, 0, err
	}
	return items, total, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountUsers counts all users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.read(ctx).Model(&User{}).Count(&n).Error
	return n, err
}
