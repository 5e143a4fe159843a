package server

// Users, the current user, and their SSH keys and emails: doc/api/users.md
// (GitLab CE 8.7, lib/api/users.rb).

import (
	"context"
	"errors"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

func (s *Server) ListUsers(ctx context.Context, req v3api.ListUsersRequestObject) (v3api.ListUsersResponseObject, error) {
	q := req.Params
	admin := currentUser(ctx).Admin
	if q.Username != nil && *q.Username != "" {
		// An exact username lookup is not paginated in 8.7.
		users, _, err := s.store.ListUsers(ctx, persistence.UserFilter{Username: *q.Username, WithIdentities: admin}, persistence.Page{})
		if err != nil {
			return nil, err
		}
		return s.userList(users, admin, nil), nil
	}
	f := persistence.UserFilter{
		ActiveOnly:     q.Active != nil, // present at all filters, as 8.7 did
		Search:         deref(q.Search),
		WithIdentities: admin,
	}
	pg := newPager(q.Page, q.PerPage)
	users, total, err := s.store.ListUsers(ctx, f, pg.window())
	if err != nil {
		return nil, err
	}
	h := s.headers(ctx, pg, total)
	return s.userList(users, admin, &h), nil
}

// userList is the answer of listUsers: UserFull items for an admin,
// UserBasic items for anyone else (the contract's UserListItem). It is
// written as one typed slice rather than through the generated union,
// which would encode every item twice.
func (s *Server) userList(users []persistence.User, admin bool, h *pageHeaders) v3api.ListUsersResponseObject {
	resp := listResponse{}
	if h != nil {
		resp.headers = *h
	}
	if admin {
		full := make(userFullList, len(users))
		for i := range users {
			full[i] = s.presentUserFull(&users[i])
		}
		resp.body = full
	} else {
		basic := make(userBasicList, len(users))
		for i := range users {
			basic[i] = s.presentUserBasic(&users[i])
		}
		resp.body = basic
	}
	return resp
}

func (s *Server) GetUser(ctx context.Context, req v3api.GetUserRequestObject) (v3api.GetUserResponseObject, error) {
	u, err := s.store.GetUser(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	var body v3api.UserFullOrUser
	if currentUser(ctx).Admin {
		err = body.FromUserFull(s.presentUserFull(u))
	} else {
		err = body.FromUser(s.presentUser(u))
	}
	return v3api.GetUser200JSONResponse(body), err
}

func (s *Server) CreateUser(ctx context.Context, req v3api.CreateUserRequestObject) (v3api.CreateUserResponseObject, error) {
	b := req.JSONBody
	p := persistence.UserParams{
		Email: &b.Email, Password: &b.Password, Name: &b.Name, Username: &b.Username,
		Skype: b.Skype, Linkedin: b.Linkedin, Twitter: b.Twitter, Bio: b.Bio, Location: b.Location,
		ProjectsLimit: b.ProjectsLimit, CanCreateGroup: b.CanCreateGroup, Admin: b.Admin, External: b.External,
		// confirm=false (or f, no, 0) creates the user already confirmed.
		SkipConfirmation: b.Confirm != nil && !*b.Confirm,
	}
	if b.Provider != nil && b.ExternUID != nil {
		p.Provider, p.ExternUID = b.Provider, b.ExternUID
	}
	u, err := s.store.CreateUser(ctx, p)
	if err != nil {
		return nil, s.userSaveFailed(ctx, err, b.Email, b.Username, 0)
	}
	s.systemHook(ctx, userEventData("user_create", u))
	return v3api.CreateUser201JSONResponse(s.presentUserFull(u)), nil
}

// userSaveFailed answers a failed save as 8.7 did: 409 when another user
// has the email or the username, else the validation errors.
func (s *Server) userSaveFailed(ctx context.Context, err error, email, username string, id int64) error {
	var v *persistence.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	if conflictErr := s.userConflict(ctx, email, username, id); conflictErr != nil {
		return conflictErr
	}
	return err
}

func (s *Server) userConflict(ctx context.Context, email, username string, id int64) error {
	if email != "" {
		taken, err := s.store.EmailTaken(ctx, email, id)
		if err != nil {
			return err
		}
		if taken {
			return conflict("Email has already been taken")
		}
	}
	if username != "" {
		taken, err := s.store.UsernameTaken(ctx, username, id)
		if err != nil {
			return err
		}
		if taken {
			return conflict("Username has already been taken")
		}
	}
	return nil
}

func (s *Server) UpdateUser(ctx context.Context, req v3api.UpdateUserRequestObject) (v3api.UpdateUserResponseObject, error) {
	id := int64(req.ID)
	if _, err := s.store.GetUser(ctx, id); err != nil {
		return nil, err
	}
	b := req.JSONBody
	if b == nil {
		b = &v3api.UpdateUserBody{}
	}
	// 8.7 checked the conflicts before saving anything.
	if err := s.userConflict(ctx, deref(b.Email), deref(b.Username), id); err != nil {
		return nil, err
	}
	p := persistence.UserParams{
		Email: b.Email, Password: b.Password, Name: b.Name, Username: b.Username,
		Skype: b.Skype, Linkedin: b.Linkedin, Twitter: b.Twitter, WebsiteURL: b.WebsiteURL,
		Bio: b.Bio, Location: b.Location, ProjectsLimit: b.ProjectsLimit,
		CanCreateGroup: b.CanCreateGroup, Admin: b.Admin, External: b.External,
	}
	if b.Provider != nil && b.ExternUID != nil {
		p.Provider, p.ExternUID = b.Provider, b.ExternUID
	}
	u, err := s.store.UpdateUser(ctx, id, p)
	if err != nil {
		return nil, s.userSaveFailed(ctx, err, deref(b.Email), deref(b.Username), id)
	}
	return v3api.UpdateUser200JSONResponse(s.presentUserFull(u)), nil
}

func (s *Server) DeleteUser(ctx context.Context, req v3api.DeleteUserRequestObject) (v3api.DeleteUserResponseObject, error) {
	u, projects, err := s.store.DeleteUser(ctx, int64(req.ID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("User")
	}
	if err != nil {
		return nil, err
	}
	for i := range projects {
		s.removeProjectFiles(projects[i].ID)
		s.systemHook(ctx, projectDataWithOwner("project_destroy", &projects[i], u))
	}
	s.systemHook(ctx, userEventData("user_destroy", u))
	return v3api.DeleteUser200JSONResponse(presentDeletedUser(u)), nil
}

func (s *Server) BlockUser(ctx context.Context, req v3api.BlockUserRequestObject) (v3api.BlockUserResponseObject, error) {
	changed, err := s.changeState(ctx, int64(req.ID), persistence.UserActive, persistence.UserBlocked,
		"LDAP blocked users cannot be modified by the API")
	return v3api.BlockUser200JSONResponse(changed), err
}

func (s *Server) UnblockUser(ctx context.Context, req v3api.UnblockUserRequestObject) (v3api.UnblockUserResponseObject, error) {
	changed, err := s.changeState(ctx, int64(req.ID), persistence.UserBlocked, persistence.UserActive,
		"LDAP blocked users cannot be unblocked by the API")
	return v3api.UnblockUser200JSONResponse(changed), err
}

// changeState is block/unblock: the answer is whether the state changed.
func (s *Server) changeState(ctx context.Context, id int64, from, to, ldapReason string) (bool, error) {
	u, err := s.findUser(ctx, id)
	if err != nil {
		return false, err
	}
	if u.State == persistence.UserLDAPBlocked {
		return false, forbidden(ldapReason)
	}
	return s.store.SetUserState(ctx, id, from, to)
}

// findUser is 8.7's `User.find_by(id:) || not_found!('User')`.
func (s *Server) findUser(ctx context.Context, id int64) (*persistence.User, error) {
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("User")
	}
	return u, err
}

func (s *Server) CreateUserKey(ctx context.Context, req v3api.CreateUserKeyRequestObject) (v3api.CreateUserKeyResponseObject, error) {
	u, err := s.store.GetUser(ctx, int64(req.ID)) // User.find: 404 Not found
	if err != nil {
		return nil, err
	}
	k, err := s.store.CreateKey(ctx, u.ID, req.JSONBody.Title, req.JSONBody.Key)
	if err != nil {
		return nil, err
	}
	s.systemHook(ctx, keyEventData("key_create", k, u))
	return v3api.CreateUserKey201JSONResponse(presentSSHKey(k)), nil
}

func (s *Server) ListUserKeys(ctx context.Context, req v3api.ListUserKeysRequestObject) (v3api.ListUserKeysResponseObject, error) {
	u, err := s.findUser(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	keys, err := s.store.ListUserKeys(ctx, u.ID)
	return v3api.ListUserKeys200JSONResponse(presentSSHKeys(keys)), err
}

func (s *Server) DeleteUserKey(ctx context.Context, req v3api.DeleteUserKeyRequestObject) (v3api.DeleteUserKeyResponseObject, error) {
	u, err := s.findUser(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	k, err := s.store.DeleteUserKey(ctx, u.ID, int64(req.KeyID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Key")
	}
	if err != nil {
		return nil, err
	}
	s.systemHook(ctx, keyEventData("key_destroy", k, u))
	return v3api.DeleteUserKey200JSONResponse(presentDeletedKey(k)), nil
}

func (s *Server) CreateUserEmail(ctx context.Context, req v3api.CreateUserEmailRequestObject) (v3api.CreateUserEmailResponseObject, error) {
	u, err := s.store.GetUser(ctx, int64(req.ID)) // User.find: 404 Not found
	if err != nil {
		return nil, err
	}
	e, err := s.store.CreateEmail(ctx, u.ID, req.JSONBody.Email)
	if err != nil {
		return nil, err
	}
	return v3api.CreateUserEmail201JSONResponse(presentEmail(e)), nil
}

func (s *Server) ListUserEmails(ctx context.Context, req v3api.ListUserEmailsRequestObject) (v3api.ListUserEmailsResponseObject, error) {
	u, err := s.findUser(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	emails, err := s.store.ListUserEmails(ctx, u.ID)
	return v3api.ListUserEmails200JSONResponse(presentEmails(emails)), err
}

func (s *Server) DeleteUserEmail(ctx context.Context, req v3api.DeleteUserEmailRequestObject) (v3api.DeleteUserEmailResponseObject, error) {
	u, err := s.findUser(ctx, int64(req.ID))
	if err != nil {
		return nil, err
	}
	e, err := s.store.DeleteUserEmail(ctx, u.ID, int64(req.EmailID))
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, notFound("Email")
	}
	if err != nil {
		return nil, err
	}
	return v3api.DeleteUserEmail200JSONResponse(presentDeletedEmail(e)), nil
}

// The current user.

func (s *Server) GetCurrentUser(ctx context.Context, _ v3api.GetCurrentUserRequestObject) (v3api.GetCurrentUserResponseObject, error) {
	u, err := s.store.GetUser(ctx, currentUser(ctx).ID)
	if err != nil {
		return nil, err
	}
	return v3api.GetCurrentUser200JSONResponse(s.presentUserLogin(u)), nil
}

func (s *Server) ListCurrentUserKeys(ctx context.Context, _ v3api.ListCurrentUserKeysRequestObject) (v3api.ListCurrentUserKeysResponseObject, error) {
	keys, err := s.store.ListUserKeys(ctx, currentUser(ctx).ID)
	return v3api.ListCurrentUserKeys200JSONResponse(presentSSHKeys(keys)), err
}

func (s *Server) GetCurrentUserKey(ctx context.Context, req v3api.GetCurrentUserKeyRequestObject) (v3api.GetCurrentUserKeyResponseObject, error) {
	k, err := s.store.GetUserKey(ctx, currentUser(ctx).ID, int64(req.KeyID))
	if err != nil {
		return nil, err
	}
	return v3api.GetCurrentUserKey200JSONResponse(presentSSHKey(k)), nil
}

func (s *Server) CreateCurrentUserKey(ctx context.Context, req v3api.CreateCurrentUserKeyRequestObject) (v3api.CreateCurrentUserKeyResponseObject, error) {
	u := currentUser(ctx)
	k, err := s.store.CreateKey(ctx, u.ID, req.JSONBody.Title, req.JSONBody.Key)
	if err != nil {
		return nil, err
	}
	s.systemHook(ctx, keyEventData("key_create", k, u))
	return v3api.CreateCurrentUserKey201JSONResponse(presentSSHKey(k)), nil
}

// DeleteCurrentUserKey is idempotent: 8.7 swallowed every error and
// answered null when there was nothing to delete.
func (s *Server) DeleteCurrentUserKey(ctx context.Context, req v3api.DeleteCurrentUserKeyRequestObject) (v3api.DeleteCurrentUserKeyResponseObject, error) {
	var body v3api.DeletedKeyOrNull // null unless something was deleted
	id, ok := parseID(req.KeyID)
	if !ok {
		return v3api.DeleteCurrentUserKey200JSONResponse(body), nil
	}
	k, err := s.store.DeleteUserKey(ctx, currentUser(ctx).ID, id)
	if errors.Is(err, persistence.ErrNotFound) {
		return v3api.DeleteCurrentUserKey200JSONResponse(body), nil
	}
	if err != nil {
		return nil, err
	}
	s.systemHook(ctx, keyEventData("key_destroy", k, currentUser(ctx)))
	err = body.FromDeletedKey(presentDeletedKey(k))
	return v3api.DeleteCurrentUserKey200JSONResponse(body), err
}

func (s *Server) ListCurrentUserEmails(ctx context.Context, _ v3api.ListCurrentUserEmailsRequestObject) (v3api.ListCurrentUserEmailsResponseObject, error) {
	emails, err := s.store.ListUserEmails(ctx, currentUser(ctx).ID)
	return v3api.ListCurrentUserEmails200JSONResponse(presentEmails(emails)), err
}

func (s *Server) GetCurrentUserEmail(ctx context.Context, req v3api.GetCurrentUserEmailRequestObject) (v3api.GetCurrentUserEmailResponseObject, error) {
	e, err := s.store.GetUserEmail(ctx, currentUser(ctx).ID, int64(req.EmailID))
	if err != nil {
		return nil, err
	}
	return v3api.GetCurrentUserEmail200JSONResponse(presentEmail(e)), nil
}

func (s *Server) CreateCurrentUserEmail(ctx context.Context, req v3api.CreateCurrentUserEmailRequestObject) (v3api.CreateCurrentUserEmailResponseObject, error) {
	e, err := s.store.CreateEmail(ctx, currentUser(ctx).ID, req.JSONBody.Email)
	if err != nil {
		return nil, err
	}
	return v3api.CreateCurrentUserEmail201JSONResponse(presentEmail(e)), nil
}

// DeleteCurrentUserEmail is idempotent, like DeleteCurrentUserKey.
func (s *Server) DeleteCurrentUserEmail(ctx context.Context, req v3api.DeleteCurrentUserEmailRequestObject) (v3api.DeleteCurrentUserEmailResponseObject, error) {
	var body v3api.DeletedEmailOrNull // null unless something was deleted
	id, ok := parseID(req.EmailID)
	if !ok {
		return v3api.DeleteCurrentUserEmail200JSONResponse(body), nil
	}
	e, err := s.store.DeleteUserEmail(ctx, currentUser(ctx).ID, id)
	if errors.Is(err, persistence.ErrNotFound) {
		return v3api.DeleteCurrentUserEmail200JSONResponse(body), nil
	}
	if err != nil {
		return nil, err
	}
	err = body.FromDeletedEmail(presentDeletedEmail(e))
	return v3api.DeleteCurrentUserEmail200JSONResponse(body), err
}
