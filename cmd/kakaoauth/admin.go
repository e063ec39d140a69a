package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	sharedconfig "github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/shared/wiring"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func init() {
	commands["admin"] = command{summary: "operators: show an account's state; unlink, re-link, delete, ban or unban it (audited); pepper versions in use", run: runAdmin}
}

// Stack outputs (template.yaml) admin reads besides the tables.
const (
	outputUserPoolID   = "UserPoolId"
	outputEventBusName = "EventBusName"
)

// AdminMain runs one operator action: `kakaoauth admin <action> [flags]`.
// Actions go through workflow/lifecycle.go, the code the worker and the
// logins run, and are audited with the caller's AWS identity.
type AdminMain struct {
	Out, Err io.Writer
	// HTTPClient carries every AWS request; nil means one with awsTimeout.
	HTTPClient aws.HTTPClient
	Now        func() time.Time
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := AdminMain{Out: stdout, Err: stderr}
	return m.Run(ctx, args)
}

const adminUsage = `usage: kakaoauth admin <action> -kakao-id N [flags]
       kakaoauth admin peppers [flags]

actions:
  show    the account's mapping and its Cognito user (reads only)
  unlink  disable the Cognito user, sign it out everywhere, release its email;
          the person's next Kakao login brings the same user back
  relink  bring an unlinked account back now, without a Kakao login
  delete  delete the Cognito user and scrub the mapping (needs -yes)
  ban     refuse the account's Kakao login (403 AccountBanned) until -until, or
          until unbanned; a user kakaoauth created is disabled and signed out.
          The ban holds through unlinks, re-links, deletion and the hosted UI
  unban   lift a ban (also one kakaoauth kept from a disable in Cognito that an
          unlink found); a created user of an active account is enabled again
  peppers how many accounts' passwords derive with each pepper version (while
          rotating the pepper: how many still use the old one); reads the
          whole mapping table (a Scan of two attributes)

Where: the local stack (make run) by default; a deployed one with -stack NAME
-region REGION (its outputs; the usual AWS credentials, -profile).
Every action is audited (detail "admin by=<your AWS identity>") and published
on the lifecycle bus like the same transition by Kakao or a login.
Run "kakaoauth admin <action> -h" for every flag.
`

// Run parses args and carries out the action.
func (m *AdminMain) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Err, adminUsage)
		return errors.New("admin: which action?")
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Err, adminUsage)
		return flag.ErrHelp
	}
	action := args[0]
	switch action {
	case "show", "unlink", "relink", "delete", "peppers", "ban", "unban":
	default:
		fmt.Fprint(m.Err, adminUsage)
		return fmt.Errorf("admin: unknown action %q", action)
	}
	f := newFlags("admin "+action, m.Err, "")
	target := awsTarget{command: "admin", HTTP: m.HTTPClient}
	target.register(f, "the pool, the tables and the bus")
	f.alias("endpoint", flagEndpointURL)
	kakaoID := f.Int64("kakao-id", 0, "the Kakao account (user id)")
	var out outputFormat
	out.register(f, "json")
	yes := f.Bool("yes", false, "confirm a deletion (it cannot be undone)")
	until := f.String("until", "", "ban: when the ban ends, RFC 3339 (2026-12-31T00:00:00+09:00) or a duration from now (72h); default: until unbanned")
	reason := f.String("reason", "", "ban: a note for the audit trail (no personal data)")
	waitStatus := f.String("wait-status", "", "show: first wait (up to 30s) until the account's status is this one (active, unlinked, deleted); Kakao's unlink callback is answered before the unlink is carried out")
	if err := f.parseNoArgs(args[1:]); err != nil {
		return err
	}
	switch {
	case *kakaoID < 0:
		return fmt.Errorf("admin %s: -kakao-id %d: a Kakao user id is a positive number", action, *kakaoID)
	case *kakaoID == 0 && action != "peppers":
		return fmt.Errorf("admin %s: which account? give -kakao-id", action)
	case *kakaoID != 0 && action == "peppers":
		return errors.New("admin peppers: counts every account; -kakao-id does not apply")
	case action == "delete" && !*yes:
		return errors.New("admin delete: deleting the Cognito user cannot be undone; add -yes")
	case action != "show" && *waitStatus != "":
		return fmt.Errorf("admin %s: -wait-status is show's", action)
	case *waitStatus != "" && *waitStatus != kakaoauth.StatusActive && *waitStatus != kakaoauth.StatusUnlinked && *waitStatus != kakaoauth.StatusDeleted:
		return fmt.Errorf("admin show: -wait-status %q: one of active, unlinked, deleted", *waitStatus)
	case action != "ban" && (*until != "" || *reason != ""):
		return fmt.Errorf("admin %s: -until and -reason are ban's", action)
	case len(*reason) > 200:
		return errors.New("admin ban: -reason is at most 200 characters")
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	var banUntil time.Time
	if *until != "" {
		var err error
		if banUntil, err = parseUntil(*until, now()); err != nil {
			return fmt.Errorf("admin ban: -until %q: %w", *until, err)
		}
	}
	if err := target.check(f); err != nil {
		return err
	}
	output := &out.format
	deps, err := m.connect(ctx, &target)
	if err != nil {
		return target.explain(err)
	}
	switch action {
	case "show":
		if *waitStatus != "" {
			if err := m.waitForStatus(ctx, deps, *kakaoID, *waitStatus, waitStatusFor); err != nil {
				return err
			}
		}
		return m.show(ctx, deps, *kakaoID, *output)
	case "peppers":
		return m.peppers(ctx, deps, *output)
	}
	actor, err := callerIdentity(ctx, deps.AWS)
	if err != nil {
		return err
	}
	steps := deps.Steps()
	switch action {
	case "ban":
		if err := steps.BanAccount(ctx, *kakaoID, banUntil, *reason, actor); err != nil {
			return fmt.Errorf("admin ban: %w", err)
		}
		end := "until unbanned"
		if !banUntil.IsZero() {
			end = "until " + timeText(banUntil)
		}
		fmt.Fprintf(m.Out, "kakao account %d banned %s: its Kakao login answers AccountBanned; event banned audited and published\n", *kakaoID, end)
		return nil
	case "unban":
		lifted, err := steps.UnbanAccount(ctx, *kakaoID, actor)
		if err != nil {
			return fmt.Errorf("admin unban: %w", err)
		}
		if !lifted {
			fmt.Fprintf(m.Out, "kakao account %d is not banned; nothing done\n", *kakaoID)
			return nil
		}
		fmt.Fprintf(m.Out, "kakao account %d unbanned: its next Kakao login signs in; event unbanned audited and published\n", *kakaoID)
		return nil
	case "relink":
		if err := steps.RelinkAccount(ctx, *kakaoID, actor); err != nil {
			return fmt.Errorf("admin relink: %w", err)
		}
		fmt.Fprintf(m.Out, "kakao account %d re-linked: its Cognito user is enabled again (same sub); event relinked published\n", *kakaoID)
		return nil
	default:
		r := kakaoauth.UnlinkRequest{ID: uuid.NewString(), KakaoID: *kakaoID, ReferrerType: "OPERATOR", ReceivedAt: now().UTC(), Actor: actor}
		r.Action = workflow.ActionUnlink
		if action == "delete" {
			r.Action = workflow.ActionDelete
		}
		outcome, err := steps.UnlinkAccount(ctx, r)
		if err != nil && outcome == workflow.UnlinkDone {
			// Done; its events wait in the outbox (the stack's bus takes
			// events from the stack's functions only): the sweeper sends them.
			fmt.Fprintf(m.Err, "admin %s: done; its events are left to the stack's sweeper (%v)\n", action, err)
			err = nil
		}
		if err != nil {
			return fmt.Errorf("admin %s: %w", action, err)
		}
		fmt.Fprintf(m.Out, "kakao account %d: %s\n", *kakaoID, describeOutcome(action, outcome))
		return nil
	}
}

func describeOutcome(action string, o workflow.UnlinkOutcome) string {
	switch o {
	case workflow.UnlinkDone:
		if action == "delete" {
			return "deleted: the Cognito user is gone and the mapping scrubbed; event deleted published"
		}
		return "unlinked: the Cognito user is disabled and signed out, its email released; event unlinked published"
	case workflow.UnlinkUnknown:
		return "no such account; nothing done"
	case workflow.UnlinkAlready:
		return "already " + map[string]string{"delete": "deleted", "unlink": "unlinked or deleted"}[action] + "; nothing done"
	default:
		return string(o)
	}
}

// connect wires the lifecycle's adapters to the target stack the way a
// Lambda's cold start does, from the stack's outputs (or the local
// stack's names).
func (m *AdminMain) connect(ctx context.Context, target *awsTarget) (*wiring.Stack, error) {
	cfg, err := target.config(ctx)
	if err != nil {
		return nil, err
	}
	outs, params, err := target.describe(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c := sharedconfig.Config{
		UserPoolID:     outs[outputUserPoolID],
		MappingTable:   outs[outputMappingTable],
		AuditTable:     outs[outputAuditTable],
		EventBusName:   outs[outputEventBusName],
		AuditRetention: sharedconfig.DefaultAuditRetention,
		UnlinkPolicy:   sharedconfig.DefaultUnlinkPolicy,
	}
	// With the hosted UI, an unlink or a deletion removes its link too.
	c.HostedUI = params["HostedUi"] == "enabled"
	if days, err := strconv.Atoi(params["AuditRetentionDays"]); err == nil && days > 0 {
		c.AuditRetention = time.Duration(days) * 24 * time.Hour
	}
	if target.stack == "" {
		local := provision.NamesFor(localstack.DefaultPrefix)
		c.MappingTable, c.AuditTable, c.EventBusName = local.MappingTable, local.AuditTable, local.EventBus
		if c.UserPoolID, err = localPoolID(ctx, cip.NewFromConfig(cfg), local.UserPool); err != nil {
			return nil, err
		}
	}
	if err := c.Require("USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME"); err != nil {
		return nil, fmt.Errorf("admin: the stack's outputs lack a setting: %w", err)
	}
	return wiring.New(bootstrap.New(c, cfg, slog.New(slog.DiscardHandler))), nil
}

// parseUntil reads -until: an RFC 3339 time, or a duration from now.
func parseUntil(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, errors.New("want a positive duration")
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 time such as 2026-12-31T00:00:00+09:00, or a duration such as 72h")
	}
	if !t.After(now) {
		return time.Time{}, errors.New("the ban would end in the past")
	}
	return t, nil
}

// callerIdentity names the operator in the audit trail.
func callerIdentity(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("admin: who are you (sts:GetCallerIdentity): %w", err)
	}
	return aws.ToString(out.Arn), nil
}

// peppers prints how many accounts' passwords derive with each pepper
// version.
func (m *AdminMain) peppers(ctx context.Context, deps *wiring.Stack, output string) error {
	usage, err := store.CountPepperVersions(ctx, dynamodb.NewFromConfig(deps.AWS), deps.Config.MappingTable)
	if err != nil {
		return fmt.Errorf("admin peppers: %w", err)
	}
	if output == "json" {
		enc := json.NewEncoder(m.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(usage)
	}
	w := tabwriter.NewWriter(m.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PEPPER VERSION\tACCOUNTS")
	for _, u := range usage {
		fmt.Fprintf(w, "%d\t%d\n", u.Version, u.Accounts)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(m.Out, "(deleted accounts hold no password and are not counted; a nonce from before versions were recorded counts as version 1)")
	return err
}

// accountState is what `admin show` prints: never the password nonce.
type accountState struct {
	KakaoID       int64    `json:"kakaoId"`
	Status        string   `json:"status"`
	Sub           string   `json:"sub"`
	Username      string   `json:"username"`
	Email         string   `json:"email,omitempty"`
	CreatedAt     string   `json:"createdAt"`
	ActiveSince   string   `json:"activeSince,omitempty"`
	LastLoginAt   string   `json:"lastLoginAt,omitempty"`
	UnlinkedAt    string   `json:"unlinkedAt,omitempty"`
	RelinkedAt    string   `json:"relinkedAt,omitempty"`
	DeletedAt     string   `json:"deletedAt,omitempty"`
	PreviousSubs  []string `json:"previousSubs,omitempty"`
	PasswordState string   `json:"passwordState,omitempty"`
	PepperVersion int      `json:"pepperVersion,omitempty"`
	LastEvent     string   `json:"lastEvent,omitempty"`
	EventPending  bool     `json:"eventPending,omitempty"`
	Ban           string   `json:"ban,omitempty"`
	Cognito       string   `json:"cognitoUser"`
}

// waitStatusFor bounds admin show -wait-status: an unlink's message is
// carried out within seconds (the queue's worker, or the sweeper's retries).
const waitStatusFor = 30 * time.Second

// waitForStatus polls the mapping until its status is want, saying so on
// m.Err while it waits; after d it fails naming the status it last saw.
func (m *AdminMain) waitForStatus(ctx context.Context, deps *wiring.Stack, kakaoID int64, want string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	seen := "no mapping"
	return waitSaying(m.Err, fmt.Sprintf("admin show: waiting for kakao account %d to be %s", kakaoID, want), func() error {
		for {
			mp, err := deps.Mappings().Get(ctx, kakaoID)
			var notFound *kakaoauth.NotFound
			switch {
			case err == nil && mp.Status == want:
				return nil
			case err == nil:
				seen = mp.Status
			case !errors.As(err, &notFound) && ctx.Err() == nil:
				return err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("admin show: kakao account %d is still %s after %s, not %s", kakaoID, seen, d, want)
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
}

func (m *AdminMain) show(ctx context.Context, deps *wiring.Stack, kakaoID int64, output string) error {
	mp, err := deps.Mappings().Get(ctx, kakaoID)
	var notFound *kakaoauth.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("admin show: kakao account %d has no mapping: it never logged in here", kakaoID)
	}
	if err != nil {
		return err
	}
	st := accountState{
		KakaoID: mp.KakaoID, Status: mp.Status, Sub: mp.Sub, Username: mp.Username, Email: mp.Email,
		CreatedAt: timeText(mp.CreatedAt), PreviousSubs: mp.PreviousSubs, PasswordState: mp.PasswordState, EventPending: mp.EventPending,
	}
	if mp.PasswordNonce != "" {
		st.PepperVersion = max(mp.PepperVersion, 1) // 0: from before versions were recorded
	}
	for dst, t := range map[*string]time.Time{&st.ActiveSince: mp.ActiveSince, &st.LastLoginAt: mp.LastLoginAt, &st.UnlinkedAt: mp.UnlinkedAt,
		&st.RelinkedAt: mp.RelinkedAt, &st.DeletedAt: mp.DeletedAt} {
		if !t.IsZero() {
			*dst = timeText(t)
		}
	}
	if mp.LastEvent.ID != "" {
		st.LastEvent = mp.LastEvent.Type + " " + timeText(mp.LastEvent.Time) + " (" + mp.LastEvent.ID + ")"
	}
	if b := mp.Ban; b != nil {
		st.Ban = "since " + timeText(b.At)
		if !b.Until.IsZero() {
			st.Ban += " until " + timeText(b.Until)
		}
		if b.By != "" {
			st.Ban += " by " + b.By
		}
		if b.Reason != "" {
			st.Ban += ": " + b.Reason
		}
		if !b.ActiveAt(time.Now()) {
			st.Ban += " (ended; lifted at the next login)"
		}
	}
	u, err := deps.Users().GetUser(ctx, mp.Username)
	switch {
	case errors.As(err, &notFound):
		st.Cognito = "missing"
	case err != nil:
		return err
	default:
		parts := []string{"enabled"}
		if !u.Enabled {
			parts[0] = "disabled"
		}
		if u.Email != "" {
			parts = append(parts, "email "+u.Email)
		} else {
			parts = append(parts, "no email")
		}
		if u.Sub != mp.Sub {
			parts = append(parts, "sub "+u.Sub+" (differs from the mapping!)")
		}
		st.Cognito = strings.Join(parts, ", ")
	}
	if output == "json" {
		enc := json.NewEncoder(m.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	w := tabwriter.NewWriter(m.Out, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(w, "%s\t%s\n", k, v)
	}
	row("kakao id", strconv.FormatInt(st.KakaoID, 10))
	row("status", st.Status)
	row("sub", st.Sub)
	row("username", st.Username)
	row("email (mapping)", st.Email)
	row("cognito user", st.Cognito)
	row("created", st.CreatedAt)
	row("active since", st.ActiveSince)
	row("last login", st.LastLoginAt)
	row("unlinked", st.UnlinkedAt)
	row("re-linked", st.RelinkedAt)
	row("deleted", st.DeletedAt)
	row("previous subs", strings.Join(st.PreviousSubs, ", "))
	row("ban", st.Ban)
	row("password", st.PasswordState)
	if st.PepperVersion != 0 {
		row("pepper version", strconv.Itoa(st.PepperVersion))
	}
	pending := ""
	if st.EventPending {
		pending = " (pending: the sweeper sends it within a minute or two)"
	}
	row("last event", st.LastEvent+pending)
	return w.Flush()
}
