package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/shared/userpool"
)

func init() {
	commands["pool"] = command{summary: "put kakaoauth's triggers into a user pool the stack does not own, or take them out (nothing else changes)", run: runPool}
}

// Stack outputs naming kakaoauth's trigger functions, by slot.
var poolOutputs = []struct {
	output, flag string
	slot         userpool.Slot
}{
	{"PreAuthFunctionArn", "pre-auth-arn", userpool.PreAuthentication},
	{"DefineAuthChallengeFunctionArn", "define-auth-challenge-arn", userpool.DefineAuthChallenge},
	{"CreateAuthChallengeFunctionArn", "create-auth-challenge-arn", userpool.CreateAuthChallenge},
	{"VerifyAuthChallengeFunctionArn", "verify-auth-challenge-arn", userpool.VerifyAuthChallengeResponse},
	{"PreSignUpFunctionArn", "pre-sign-up-arn", userpool.PreSignUp}, // hosted UI only
}

// paramUserPoolID is the stack parameter naming an existing pool (empty:
// the stack creates its own).
const paramUserPoolID = "UserPoolId"

// PoolMain runs `kakaoauth pool attach|detach`.
type PoolMain struct {
	Out, Err io.Writer
	// In answers the confirmation (unless -yes).
	In io.Reader
	// HTTPClient carries every AWS request; nil means one with awsTimeout.
	HTTPClient aws.HTTPClient
}

func runPool(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := PoolMain{Out: stdout, Err: stderr, In: os.Stdin}
	return m.Run(ctx, args)
}

const poolUsage = `usage: kakaoauth pool attach|detach -stack NAME [-user-pool-id ID] [flags]
       kakaoauth pool attach|detach -user-pool-id ID -pre-auth-arn ARN ... [flags]

  attach  put kakaoauth's functions into the pool's PreAuthentication,
          DefineAuthChallenge, CreateAuthChallenge and
          VerifyAuthChallengeResponse triggers (and PreSignUp when the stack
          has the hosted UI), and add the custom:kakao_id attribute when the
          pool lacks it
  detach  empty every trigger that holds one of kakaoauth's functions

Both read the pool's whole configuration first, show exactly what changes and
ask before writing (-dry-run: show only; -yes: do not ask). The UpdateUserPool
request carries every other setting as read; a trigger held by another
function is refused, never replaced; the pool is read again afterwards to show
nothing else moved. Attach also refuses a pool with users named
kakao_<Kakao id> that kakaoauth did not create (no custom:kakao_id), naming
them. Cognito cannot remove an attribute: custom:kakao_id stays.
The functions come from the -stack's outputs, or from the -*-arn flags.
Run "kakaoauth pool attach -h" for every flag.
`

// poolRefused is a command that ran and refused, or found the pool not as
// expected: exit status 1 (usage errors are 2).
type poolRefused struct{ error }

func (e poolRefused) ExitCode() int { return 1 }
func (e poolRefused) Unwrap() error { return e.error }

// Run parses args and attaches or detaches.
func (m *PoolMain) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Err, poolUsage)
		if len(args) == 0 {
			return errors.New("pool: attach or detach?")
		}
		return flag.ErrHelp
	}
	action := args[0]
	if action != "attach" && action != "detach" {
		fmt.Fprint(m.Err, poolUsage)
		return fmt.Errorf("pool: unknown action %q", action)
	}
	fs := newFlags("pool "+action, m.Err, poolUsage+"\nflags:\n")
	target := awsTarget{command: "pool " + action, HTTP: m.HTTPClient}
	target.register(fs, "the pool (UserPoolId) and kakaoauth's functions (*FunctionArn)")
	poolID := fs.String("user-pool-id", "", "the user pool (default: the -stack's UserPoolId output)")
	arns := map[userpool.Slot]*string{}
	for _, o := range poolOutputs {
		arns[o.slot] = fs.String(o.flag, "", fmt.Sprintf("the %s function's ARN (instead of -stack's %s)", o.slot, o.output))
	}
	dryRun := fs.Bool("dry-run", false, "show what would change; change nothing")
	yes := fs.Bool("yes", false, "do not ask before changing the pool")
	backup := fs.String("backup", "", "write the pool's configuration as read (JSON) to this file before changing anything")
	if err := fs.parseNoArgs(args[1:]); err != nil {
		return err
	}
	if err := target.check(fs); err != nil {
		return err
	}
	fns := userpool.Functions{}
	for slot, v := range arns {
		if *v != "" {
			fns[slot] = *v
		}
	}
	switch {
	case target.stack != "" && len(fns) > 0:
		return fmt.Errorf("pool %s: give -stack or the function ARNs, not both", action)
	case target.stack == "" && len(fns) == 0:
		return fmt.Errorf("pool %s: which functions? give -stack or the -*-arn flags", action)
	case target.stack == "" && *poolID == "":
		return fmt.Errorf("pool %s: give -user-pool-id", action)
	}

	cfg, err := target.config(ctx)
	if err != nil {
		return err
	}
	id, fns, err := resolvePool(ctx, &target, cfg, action, *poolID, fns)
	if err != nil {
		return err
	}

	idp := cip.NewFromConfig(cfg)
	read, err := userpool.Read(ctx, idp, id)
	if err != nil {
		return refusedIf(err)
	}
	if *backup != "" {
		if err := writeBackup(*backup, read); err != nil {
			return fmt.Errorf("pool %s: %w (nothing was changed)", action, err)
		}
	}
	var plan *userpool.Plan
	if action == "attach" {
		plan, err = userpool.PlanAttach(read, fns)
	} else {
		plan, err = userpool.PlanDetach(read, fns)
	}
	if err != nil {
		return refusedIf(err)
	}
	// Users kakaoauth would take for its own stop attach before the plan
	// is shown (the dry run too), and are named when the triggers are
	// already in place.
	if action == "attach" {
		if err := userpool.CheckReservedUsers(ctx, idp, read); err != nil {
			return refusedIf(err)
		}
	}
	plan.Render(m.Out)
	switch {
	case plan.Empty():
		return nil
	case *dryRun:
		fmt.Fprintln(m.Out, "\nDry run: nothing was changed.")
		return nil
	case !*yes:
		if err := m.confirm(plan); err != nil {
			return err
		}
	}
	if _, err := userpool.Apply(ctx, idp, plan); err != nil {
		return refusedIf(err)
	}
	m.done(plan, action, args[1:])
	return nil
}

// resolvePool settles the pool and kakaoauth's functions: from the
// stack's outputs (checked against a -user-pool-id given too), or as the
// flags gave them.
func resolvePool(ctx context.Context, target *awsTarget, cfg aws.Config, action, poolID string, fns userpool.Functions) (string, userpool.Functions, error) {
	if target.stack != "" {
		outputs, params, err := target.describe(ctx, cfg)
		if err != nil {
			return "", nil, err
		}
		// A stack that created its pool sets the triggers itself; detach
		// would only fight CloudFormation, attach has nothing to do.
		if existing, ok := params[paramUserPoolID]; ok && existing == "" {
			return "", nil, fmt.Errorf("pool %s: stack %s created its own user pool and CloudFormation sets its triggers; "+
				"the pool tool is for a stack deployed into an existing pool (parameter %s)", action, target.stack, paramUserPoolID)
		}
		if fns, err = stackFunctions(target.stack, outputs, action); err != nil {
			return "", nil, err
		}
		switch stackPool := outputs[outputUserPoolID]; {
		case poolID == "":
			poolID = stackPool
		case stackPool != "" && stackPool != poolID:
			return "", nil, fmt.Errorf("pool %s: stack %s serves user pool %s, not %s", action, target.stack, stackPool, poolID)
		}
		if poolID == "" {
			return "", nil, fmt.Errorf("pool %s: stack %s has no %s output; give -user-pool-id", action, target.stack, outputUserPoolID)
		}
	}
	if region, _, ok := strings.Cut(poolID, "_"); ok && region != cfg.Region {
		return "", nil, fmt.Errorf("pool %s: user pool %s is in %s, the AWS configuration says %s: give -region %s", action, poolID, region, cfg.Region, region)
	}
	return poolID, fns, nil
}

// stackFunctions are kakaoauth's functions named by the stack's outputs.
func stackFunctions(stack string, outputs map[string]string, action string) (userpool.Functions, error) {
	fns := userpool.Functions{}
	var missing []string
	for _, o := range poolOutputs {
		switch v := outputs[o.output]; {
		case v != "":
			fns[o.slot] = v
		case slices.Contains(userpool.AttachRequired, o.slot):
			missing = append(missing, o.output)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pool %s: stack %s has no %s output: deploy a kakaoauth version that has them (docs/existing-pool.md)",
			action, stack, strings.Join(missing, ", "))
	}
	return fns, nil
}

func (m *PoolMain) confirm(plan *userpool.Plan) error {
	fmt.Fprintf(m.Err, "\nChange user pool %s as shown? Type yes to go on: ", plan.PoolID())
	in := m.In
	if in == nil {
		in = strings.NewReader("")
	}
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return poolRefused{fmt.Errorf("pool %s: not confirmed; nothing was changed (-yes skips the question)", plan.Action)}
}

// done says what happened and how to undo it.
func (m *PoolMain) done(plan *userpool.Plan, action string, flags []string) {
	fmt.Fprintf(m.Out, "\nDone: user pool %s read back; nothing but the lines above changed.\n", plan.PoolID())
	undo := repeatFlags(flags)
	if action == "attach" {
		fmt.Fprintf(m.Out, "To undo: kakaoauth pool detach %s\n", strings.Join(undo, " "))
		if plan.AddKakaoID {
			fmt.Fprintf(m.Out, "(detach empties the triggers attach filled; %s stays: Cognito cannot remove an attribute)\n", cognito.AttrKakaoID)
		}
		return
	}
	fmt.Fprintf(m.Out, "To put them back: kakaoauth pool attach %s\n", strings.Join(undo, " "))
}

// repeatFlags are the flags that name the pool, the functions and the
// account, for the command that undoes this one: without -yes, -dry-run
// and -backup (an existing backup file is never overwritten).
func repeatFlags(flags []string) []string {
	var out []string
	for i := 0; i < len(flags); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(flags[i], "-"), "=")
		switch name {
		case "yes", "dry-run":
			continue
		case "backup":
			if !hasValue {
				i++
			}
			continue
		}
		out = append(out, flags[i])
	}
	return out
}

// refusedIf gives the tool's refusals exit status 1.
func refusedIf(err error) error {
	var (
		taken   *userpool.SlotTakenError
		shape   *userpool.AttributeShapeError
		unknown *userpool.UnknownFieldsError
		changed *userpool.ChangedError
		users   *userpool.ReservedUsersError
	)
	if errors.As(err, &taken) || errors.As(err, &shape) || errors.As(err, &unknown) || errors.As(err, &changed) || errors.As(err, &users) {
		return poolRefused{err}
	}
	return err
}

func writeBackup(path string, s *userpool.Snapshot) error {
	b, err := json.MarshalIndent(struct {
		UserPool  any
		MfaConfig any
	}{s.Pool, s.MFA}, "", "  ")
	if err != nil {
		return err
	}
	// O_EXCL: an earlier backup is never overwritten.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("backup: %w", err)
	}
	return f.Close()
}
