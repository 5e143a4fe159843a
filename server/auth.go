package server

import (
	"context"
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/labrador-dev/labrador/persistence"
)

// An authenticator finds the user a request speaks for, or nil when the
// request carries none of its credentials. The chain is tried in order;
// the OAuth2 bearer token (a later issue) is the next link.
type authenticator func(ctx context.Context, c echo.Context, params map[string]any) (*persistence.User, error)

// privateToken reads the `private_token` parameter or the PRIVATE-TOKEN header.
func (s *Server) privateToken(ctx context.Context, c echo.Context, params map[string]any) (*persistence.User, error) {
	token := param(c, params, "private_token", "PRIVATE-TOKEN")
	if token == "" {
		return nil, nil
	}
	u, err := s.store.UserByToken(ctx, token)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// param reads a parameter from the query string, the folded body, or a header.
func param(c echo.Context, params map[string]any, name, header string) string {
	if v := c.QueryParam(name); v != "" {
		return v
	}
	if v, ok := params[name]; ok {
		switch x := v.(type) {
		case string:
			return x
		case interface{ String() string }:
			return x.String()
		}
	}
	return c.Request().Header.Get(header)
}

// authenticate runs GitLab's current_user and authenticate!: it returns the
// request context carrying the user (after sudo), or the 401/403/404 that
// 8.7 answered. A blocked user counts as no user.
func (s *Server) authenticate(c echo.Context, op *operation, params map[string]any) (context.Context, error) {
	ctx := context.WithValue(c.Request().Context(), requestKey, c.Request())
	if op.public {
		// No user needed; one who comes along is known to the handler (the
		// legacy CI forks resource takes a private token next to its own).
		if param(c, params, "private_token", "PRIVATE-TOKEN") != "" {
			ctx = context.WithValue(ctx, tokenGivenKey, true)
			u, err := s.privateToken(ctx, c, params)
			if err != nil {
				return nil, err
			}
			if u != nil && u.Active() {
				ctx = context.WithValue(ctx, userKey, u)
			}
		}
		return ctx, nil
	}
	var user *persistence.User
	for _, auth := range s.authenticators {
		u, err := auth(ctx, c, params)
		if err != nil {
			return nil, err
		}
		if u != nil {
			user = u
			break
		}
	}
	if user == nil || !user.Active() {
		if op.anonymousForbidden {
			return nil, forbidden()
		}
		return nil, unauthorized()
	}
	if ident := param(c, params, "sudo", "SUDO"); ident != "" && ident != user.Username && ident != strconv.FormatInt(user.ID, 10) {
		if !user.Admin {
			return nil, renderAPIError(403, "403 Forbidden: Must be admin to use sudo")
		}
		target, err := s.store.UserByUsernameOrID(ctx, ident)
		if errors.Is(err, persistence.ErrNotFound) {
			return nil, notFound("No user id or username for: " + ident)
		}
		if err != nil {
			return nil, err
		}
		user = target
	}
	if op.adminOnly && !user.Admin {
		return nil, forbidden()
	}
	return context.WithValue(ctx, userKey, user), nil
}
