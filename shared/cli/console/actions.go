package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// actions are the writes the console offers, each through the same
// shared/cli function as the CLI command of the same name.
var actions = []string{"hold", "release", "rollback", "approve", "reject"}

// ConfirmView is a confirmation page's data: what the write will do, and
// the form that does it.
type ConfirmView struct {
	Action  string
	Binding string
	Status  cli.ServiceStatus
	// Revisions are the binding's revisions, for rollback's choice.
	Revisions []cli.Revision
	// Pending is the revision approve or reject decides on, if any.
	Pending *cli.PendingApproval
	// Reason, Force and To are the form's values (kept after an error).
	Reason string
	Force  bool
	To     string
	Error  string
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.confirmView(r)
	if err != nil {
		s.fail(w, r, statusOf(err), err)
		return
	}
	s.render(w, http.StatusOK, "confirm", s.view(r, strings.ToUpper(v.Action[:1])+v.Action[1:]+" "+v.Binding, "fleet", v))
}

func (s *Server) confirmView(r *http.Request) (*ConfirmView, error) {
	v := &ConfirmView{Action: r.PathValue("action"), Binding: r.PathValue("binding")}
	if !slices.Contains(actions, v.Action) {
		return nil, &cli.NotFoundError{Kind: "action", Name: v.Action, Known: actions}
	}
	st, err := s.env.Status(r.Context(), []string{v.Binding}, 0)
	if err != nil {
		return nil, err
	}
	v.Status = st.Services[0]
	if v.Action == "approve" || v.Action == "reject" {
		ps, err := s.env.Pending(r.Context(), []string{v.Binding})
		if err != nil {
			return nil, err
		}
		if len(ps) > 0 {
			v.Pending = &ps[0]
		}
	}
	if v.Action == "rollback" {
		h, err := s.env.History(r.Context(), v.Binding, historyLimit)
		if err != nil {
			return nil, err
		}
		for _, rev := range h.Revisions {
			if !rev.Running {
				v.Revisions = append(v.Revisions, rev)
			}
		}
	}
	return v, nil
}

// act runs a confirmed write through shared/cli with the Env the console
// was given (not the cached one), then redirects to the binding's page. A
// refused write shows the confirmation page again with the error.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	binding, action := r.PathValue("binding"), r.PathValue("action")
	var err error
	switch action {
	case "hold":
		_, err = s.opts.Env.Hold(ctx, binding, r.PostFormValue("reason"), r.PostFormValue("force") == "on")
	case "release":
		_, err = s.opts.Env.Release(ctx, binding)
	case "rollback":
		_, err = s.opts.Env.Rollback(ctx, binding, r.PostFormValue("to"))
	case "approve":
		_, err = s.opts.Env.Approve(ctx, binding)
	case "reject":
		_, err = s.opts.Env.Reject(ctx, binding, r.PostFormValue("reason"))
	default:
		s.fail(w, r, http.StatusNotFound, &cli.NotFoundError{Kind: "action", Name: action, Known: actions})
		return
	}
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "console write refused", "action", action, "binding", binding, "err", err)
		v, verr := s.confirmView(r)
		if verr != nil {
			s.fail(w, r, statusOf(err), errors.Join(err, verr))
			return
		}
		v.Reason, v.Force, v.To, v.Error = r.PostFormValue("reason"), r.PostFormValue("force") == "on", r.PostFormValue("to"), err.Error()
		s.render(w, statusOf(err), "confirm", s.view(r, action+" "+binding, "fleet", v))
		return
	}
	s.opts.Logger.InfoContext(ctx, "console write", "action", action, "binding", binding)
	s.reread(ctx, binding)
	http.Redirect(w, r, "/b/"+url.PathEscape(binding)+"?done="+action, http.StatusSeeOther)
}

// reread reads a binding a write just touched into the fleet snapshot, so
// the fleet's counts and state filters show the write at once rather than
// after the next refresh. A failure is logged: the write stands, and the
// next refresh reads the binding anyway.
func (s *Server) reread(ctx context.Context, binding string) {
	m, err := s.env.Source.Manifest(ctx)
	if err == nil {
		if b, ok := m.Service(binding); ok {
			_, err = s.readFresh(ctx, m, fingerprint(m), []*manifest.Service{b})
		}
	}
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "reread after a write", "binding", binding, "err", err)
	}
}
