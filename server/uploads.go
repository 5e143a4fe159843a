package server

// Project uploads: POST /projects/:id/uploads (GitLab CE 8.7,
// FileUploader): the file is stored under the data dir at
// uploads/<project id>/<secret>/<name> — by id, so that renaming or
// transferring the project moves nothing.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/labrador-dev/labrador/gen/v3api"
)

var imageExtensions = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".tiff": true, ".ico": true}

// UploadProjectFile stores the multipart part `file`. No file, or one over
// the instance's max_attachment_size, answers 201 with null, as 8.7 did.
func (s *Server) UploadProjectFile(ctx context.Context, req v3api.UploadProjectFileRequestObject) (v3api.UploadProjectFileResponseObject, error) {
	scope, err := s.findProject(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	var none v3api.ProjectUploadOrNull
	if req.Body == nil {
		return v3api.UploadProjectFile201JSONResponse(none), nil
	}
	settings, err := s.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	limit := int64(settings.MaxAttachmentSize) << 20
	for {
		part, err := req.Body.NextPart()
		if errors.Is(err, io.EOF) {
			return v3api.UploadProjectFile201JSONResponse(none), nil
		}
		if err != nil {
			return nil, malformedBody
		}
		if part.FormName() != "file" || part.FileName() == "" {
			continue
		}
		upload, ok, err := s.storeUpload(scope.project.ID, part, limit)
		if err != nil || !ok {
			return v3api.UploadProjectFile201JSONResponse(none), err
		}
		var body v3api.ProjectUploadOrNull
		err = body.FromProjectUpload(upload)
		return v3api.UploadProjectFile201JSONResponse(body), err
	}
}

// storeUpload writes the part; ok is false when it is over the limit.
func (s *Server) storeUpload(projectID int64, part *multipart.Part, limit int64) (v3api.ProjectUpload, bool, error) {
	name := filepath.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
	if name == "." || name == ".." || name == "/" {
		name = "file" // a name that is a path, not a file
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return v3api.ProjectUpload{}, false, err
	}
	dir := filepath.Join(s.uploadsDir(projectID), hex.EncodeToString(secret))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return v3api.ProjectUpload{}, false, err
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return v3api.ProjectUpload{}, false, err
	}
	n, err := io.Copy(f, io.LimitReader(part, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n > limit {
		os.RemoveAll(dir)
		return v3api.ProjectUpload{}, false, err
	}
	ext := strings.ToLower(filepath.Ext(name))
	url := "/uploads/" + hex.EncodeToString(secret) + "/" + name
	// 8.7's FileUploader#to_h: an image is named by its basename and
	// shown inline; anything else is a link named by its file name.
	alt := name
	if imageExtensions[ext] {
		alt = strings.TrimSuffix(name, filepath.Ext(name))
	}
	markdown := "[" + strings.ReplaceAll(alt, "]", "\\]") + "](" + url + ")"
	if imageExtensions[ext] {
		markdown = "!" + markdown
	}
	return v3api.ProjectUpload{Alt: alt, URL: url, IsImage: imageExtensions[ext], Markdown: markdown}, true, nil
}

func (s *Server) uploadsDir(projectID int64) string {
	return filepath.Join(s.cfg.DataDir, "uploads", strconv.FormatInt(projectID, 10))
}

// removeProjectFiles deletes what a deleted project kept on disk: its git
// repository and its uploads. The rows are gone already (one
// transaction); a file that cannot be removed is logged, and an orphaned
// directory is harmless to the API.
func (s *Server) removeProjectFiles(projectID int64) {
	if s.cfg.Repos != nil {
		if err := s.cfg.Repos.Delete(projectID); err != nil {
			s.log.Error("remove project repository", "project_id", projectID, "err", err)
		}
	}
	if s.cfg.DataDir == "" {
		return
	}
	if err := os.RemoveAll(s.uploadsDir(projectID)); err != nil {
		s.log.Error("remove project uploads", "project_id", projectID, "err", err)
	}
}
