package server

import "context"

// buildUpdated is ci-core's (pipeline progression, Build Hook); this stub
// stands in until that branch is merged.
func (s *Server) buildUpdated(ctx context.Context, buildID int64) error { return nil }
