package server

// Namespaces: doc/api/namespaces.md (GitLab CE 8.7, lib/api/namespaces.rb).

import (
	"context"

	"github.com/labrador-dev/labrador/gen/v3api"
	"github.com/labrador-dev/labrador/persistence"
)

// ListNamespaces lists every namespace to an administrator, and to anyone
// else their own.
func (s *Server) ListNamespaces(ctx context.Context, req v3api.ListNamespacesRequestObject) (v3api.ListNamespacesResponseObject, error) {
	u := currentUser(ctx)
	f := persistence.NamespaceFilter{Search: deref(req.Params.Search)}
	if !u.Admin {
		f.UserID = &u.ID
	}
	pg := newPager(req.Params.Page, req.Params.PerPage)
	nss, total, err := s.store.ListNamespaces(ctx, f, pg.window())
	if err != nil {
		return nil, err
	}
	body := make([]v3api.Namespace, len(nss))
	for i := range nss {
		body[i] = presentNamespace(&nss[i])
	}
	return v3api.ListNamespaces200JSONResponse{Body: body, Headers: v3api.ListNamespaces200ResponseHeaders(s.headers(ctx, pg, total))}, nil
}
