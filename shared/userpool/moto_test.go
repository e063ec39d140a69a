package userpool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/userpool/userpooltest"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// motoPool is the team's pool, with DescribeUserPool and UpdateUserPool
// recorded on the wire.
type motoPool struct {
	*userpooltest.TeamPool
	id    string
	idp   *cip.Client
	proxy *faultproxy.Proxy
}

func newMotoPool(t *testing.T, name string) *motoPool {
	t.Helper()
	p := userpooltest.New(t, moto.ForTest(t).URL(), name)
	p.Proxy.Record("DescribeUserPool")
	p.Proxy.Record("UpdateUserPool")
	return &motoPool{TeamPool: p, id: p.ID, idp: p.IDP, proxy: p.Proxy}
}

// planAttach reads the pool and plans attaching kakaoauth's functions.
func (mp *motoPool) planAttach(t *testing.T) (*Snapshot, *Plan) {
	t.Helper()
	read, err := Read(context.Background(), mp.idp, mp.id)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanAttach(read, kakaoauthFunctions())
	if err != nil {
		t.Fatal(err)
	}
	return read, plan
}

func kakaoauthFunctions() Functions {
	return Functions{
		PreAuthentication:           userpooltest.FunctionARN("kakaoauth-PreAuthFunction"),
		DefineAuthChallenge:         userpooltest.FunctionARN("kakaoauth-DefineAuthChallengeFunction"),
		CreateAuthChallenge:         userpooltest.FunctionARN("kakaoauth-CreateAuthChallengeFunction"),
		VerifyAuthChallengeResponse: userpooltest.FunctionARN("kakaoauth-VerifyAuthChallengeFunction"),
		PreSignUp:                   userpooltest.FunctionARN("kakaoauth-PreSignUpFunction"),
	}
}

// The round trip: attach to a fully configured pool, then detach. Read
// back through moto, nothing but kakaoauth's slots (and the added
// attribute) differs; on the wire, every UpdateUserPool request carries
// the description it was built from, member for member.
func TestAttachDetachRoundTrip(t *testing.T) {
	ctx := context.Background()
	mp := newMotoPool(t, "team-roundtrip")
	fns := kakaoauthFunctions()

	read, err := Read(ctx, mp.idp, mp.id)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture is what it says: every trigger slot kakaoauth does not
	// use is filled, the MFA configuration has TOTP and SMS, and the pool
	// signs in by alias.
	if len(read.Pool.AliasAttributes) != 2 || read.Pool.UsernameConfiguration == nil {
		t.Fatalf("the team's pool lost its aliases: %v %v", read.Pool.AliasAttributes, read.Pool.UsernameConfiguration)
	}
	for _, slot := range []string{"PostAuthentication", "PostConfirmation", "CustomMessage", "UserMigration", "PreTokenGenerationConfig", "CustomEmailSender", "CustomSMSSender", "KMSKeyID", "InboundFederation"} {
		if reflect.ValueOf(read.Pool.LambdaConfig).Elem().FieldByName(slot).IsNil() {
			t.Fatalf("moto did not keep the team's %s", slot)
		}
	}
	if read.MFA.SoftwareTokenMfaConfiguration == nil || !read.MFA.SoftwareTokenMfaConfiguration.Enabled || read.MFA.SmsMfaConfiguration == nil {
		t.Fatalf("MFA configuration %+v", read.MFA)
	}

	plan, err := PlanAttach(read, fns)
	if err != nil {
		t.Fatal(err)
	}
	mp.proxy.Reset()
	attached, err := Apply(ctx, mp.idp, plan)
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, c := range diff(snapshotSettings(read), snapshotSettings(attached), volatile) {
		changed = append(changed, c.Setting)
	}
	want := []string{
		"LambdaConfig.CreateAuthChallenge", "LambdaConfig.DefineAuthChallenge", "LambdaConfig.PreAuthentication", "LambdaConfig.PreSignUp",
		"LambdaConfig.VerifyAuthChallengeResponse",
		"SchemaAttributes[custom:kakao_id].AttributeDataType", "SchemaAttributes[custom:kakao_id].DeveloperOnlyAttribute",
		"SchemaAttributes[custom:kakao_id].Mutable", "SchemaAttributes[custom:kakao_id].Name", "SchemaAttributes[custom:kakao_id].Required",
		"SchemaAttributes[custom:kakao_id].StringAttributeConstraints.MaxLength", "SchemaAttributes[custom:kakao_id].StringAttributeConstraints.MinLength",
	}
	if !slices.Equal(changed, want) {
		t.Fatalf("attach changed\n%s\nwant\n%s", strings.Join(changed, "\n"), strings.Join(want, "\n"))
	}
	for slot, arn := range fns {
		if slot.get(attached.Pool.LambdaConfig) != arn {
			t.Fatalf("%s is %q", slot, slot.get(attached.Pool.LambdaConfig))
		}
	}
	checkWire(t, mp.proxy, plan)

	// Attaching again reads and writes nothing more.
	again, err := PlanAttach(attached, fns)
	if err != nil || !again.Empty() {
		t.Fatalf("second attach: %v %+v", err, again)
	}

	plan, err = PlanDetach(attached, fns)
	if err != nil {
		t.Fatal(err)
	}
	mp.proxy.Reset()
	detached, err := Apply(ctx, mp.idp, plan)
	if err != nil {
		t.Fatal(err)
	}
	changed = nil
	for _, c := range diff(snapshotSettings(read), snapshotSettings(detached), volatile) {
		changed = append(changed, c.Setting)
	}
	// Back to the pool as it was, but for the attribute Cognito cannot remove.
	if len(changed) != 7 || !strings.HasPrefix(changed[0], "SchemaAttributes[custom:kakao_id].") || !strings.HasPrefix(changed[6], "SchemaAttributes[custom:kakao_id].") {
		t.Fatalf("after detach, differs from before attach:\n%s", strings.Join(changed, "\n"))
	}
	checkWire(t, mp.proxy, plan)
}

// checkWire compares the one UpdateUserPool request on the wire with the
// DescribeUserPool answer Apply read just before it, as JSON: every member
// of the description is in the request with the same value, except those
// the carry tables leave out and the planned slots. It does not go through
// UpdateInput's Go types, and it proves what reading back through moto
// cannot: moto keeps MfaConfiguration when a request omits it
// (TestWhatReadingBackCannotShow), and would put its own defaults in place
// of an omitted Policies, AdminCreateUserConfig, EmailConfiguration,
// VerificationMessageTemplate or AccountRecoverySetting of a pool that has
// the defaults.
func checkWire(t *testing.T, proxy *faultproxy.Proxy, plan *Plan) {
	t.Helper()
	updates := proxy.Exchanges("UpdateUserPool")
	describes := proxy.Exchanges("DescribeUserPool")
	if len(updates) != 1 || len(describes) != 2 {
		t.Fatalf("%d UpdateUserPool and %d DescribeUserPool on the wire; want 1 and 2 (read again, write, read back)", len(updates), len(describes))
	}
	var desc struct{ UserPool map[string]any }
	var sent map[string]any
	if err := json.Unmarshal(describes[0].Response, &desc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(updates[0].Request, &sent); err != nil {
		t.Fatal(err)
	}
	// What the description should look like in the request.
	want := map[string]any{}
	for k, v := range desc.UserPool {
		switch {
		case k == "Id":
			want["UserPoolId"] = v
		case k == "Name":
			want["PoolName"] = v
		case notSent[k] != "":
		default:
			want[k] = v
		}
	}
	lc, _ := want["LambdaConfig"].(map[string]any)
	if lc == nil {
		lc = map[string]any{}
	}
	for _, c := range plan.Slots {
		if c.After == "" {
			delete(lc, string(c.Slot))
		} else {
			lc[string(c.Slot)] = c.After
		}
	}
	want["LambdaConfig"] = lc
	if acu, ok := want["AdminCreateUserConfig"].(map[string]any); ok {
		delete(acu, "UnusedAccountValidityDays") // reshaped
	}
	var problems []string
	for k := range merged(want, sent) {
		if !reflect.DeepEqual(want[k], sent[k]) {
			problems = append(problems, fmt.Sprintf("%s: described %v, sent %v", k, want[k], sent[k]))
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
	// The fixture exercises every member the request has: a setting a
	// newer SDK adds must be added to the team's pool too.
	for f := range reflect.TypeFor[cip.UpdateUserPoolInput]().Fields() {
		if f.IsExported() && sent[f.Name] == nil && requestNotCarried[f.Name] == "" {
			t.Errorf("the team's pool does not exercise %s: set it in userpooltest.Create", f.Name)
		}
	}
}

func merged(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// A change made by someone else between the plan and Apply stops Apply
// before it writes: the plan was shown and confirmed for the pool as read.
func TestApplyStopsWhenThePoolMovedSinceRead(t *testing.T) {
	ctx := context.Background()
	mp := newMotoPool(t, "team-moved")
	read, plan := mp.planAttach(t)
	// A colleague turns device tracking off, carrying everything else.
	theirs := UpdateInput(&read.Pool)
	theirs.DeviceConfiguration = nil
	if _, err := mp.idp.UpdateUserPool(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	mp.proxy.Reset()
	_, err := Apply(ctx, mp.idp, plan)
	var moved *ChangedError
	if !errors.As(err, &moved) || !strings.Contains(err.Error(), "since it was read; nothing was changed") ||
		!strings.Contains(err.Error(), "DeviceConfiguration.ChallengeRequiredOnNewDevice: true -> (none)") {
		t.Fatalf("moved pool: %v", err)
	}
	if n := mp.proxy.Count("UpdateUserPool") + mp.proxy.Count("AddCustomAttributes"); n != 0 {
		t.Fatalf("%d writes to a pool that moved", n)
	}
}

// unexpected is the real client, except that its UpdateUserPool also
// drops one setting, as a Cognito that reset something would.
type unexpected struct{ *cip.Client }

func (u unexpected) UpdateUserPool(ctx context.Context, in *cip.UpdateUserPoolInput, opts ...func(*cip.Options)) (*cip.UpdateUserPoolOutput, error) {
	out, err := u.Client.UpdateUserPool(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	again := *in
	again.UserAttributeUpdateSettings = nil
	return u.Client.UpdateUserPool(ctx, &again, opts...)
}

// Apply reads the pool back and says what moved beyond the plan.
func TestApplyReportsWhatElseChanged(t *testing.T) {
	ctx := context.Background()
	mp := newMotoPool(t, "team-unexpected")
	_, plan := mp.planAttach(t)
	_, err := Apply(ctx, unexpected{mp.idp}, plan)
	var changed *ChangedError
	if !errors.As(err, &changed) || len(changed.Changes) != 1 ||
		changed.Changes[0] != (Change{Setting: "UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate", Before: "[email]"}) {
		t.Fatalf("unexpected change: %v", err)
	}
	if !strings.Contains(err.Error(), "in ways the request did not ask for") {
		t.Fatal(err)
	}
}

// A pool whose description holds a member this SDK does not know is not
// written: the front adds one to moto's answer, standing in for a Cognito
// newer than this build.
func TestReadRefusesUnknownSettings(t *testing.T) {
	ctx := context.Background()
	mp := newMotoPool(t, "team-future")
	if err := mp.Cognito.AddMember(mp.id, "FutureSessionPolicy", map[string]any{"Mode": "STRICT"}); err != nil {
		t.Fatal(err)
	}
	_, err := Read(ctx, mp.idp, mp.id)
	var unknown *UnknownFieldsError
	if !errors.As(err, &unknown) || !slices.Equal(unknown.Fields, []string{"FutureSessionPolicy"}) {
		t.Fatalf("unknown member: %v", err)
	}
	if n := mp.proxy.Count("GetUserPoolMfaConfig") + mp.proxy.Count("UpdateUserPool"); n != 0 {
		t.Fatalf("%d calls after an unknown member", n)
	}
}

// What a read-back through moto can prove: an UpdateUserPool that carries
// nothing resets every setting of the team's pool, as on AWS, except those
// listed here, which moto keeps; only the wire check shows that the tool
// sends them.
func TestWhatReadingBackCannotShow(t *testing.T) {
	ctx := context.Background()
	mp := newMotoPool(t, "team-bare-update")
	read, err := Read(ctx, mp.idp, mp.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mp.idp.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: &mp.id}); err != nil {
		t.Fatal(err)
	}
	after, err := Read(ctx, mp.idp, mp.id)
	if err != nil {
		t.Fatal(err)
	}
	reset := map[string]bool{}
	for _, c := range diff(settings(read.Pool), settings(after.Pool), volatile) {
		reset[strings.SplitN(strings.SplitN(c.Setting, ".", 2)[0], "[", 2)[0]] = true
	}
	var kept []string
	for f := range reflect.TypeFor[cip.UpdateUserPoolInput]().Fields() {
		src := f.Name
		if r, ok := renamed[src]; ok {
			src = r
		}
		if f.IsExported() && src != "Id" && src != "Name" && !reset[src] {
			kept = append(kept, f.Name)
		}
	}
	t.Logf("moto keeps %v when UpdateUserPool omits them; AWS resets them", kept)
	if !slices.Equal(kept, []string{"MfaConfiguration"}) {
		t.Fatalf("moto keeps %v; the wire check's comment and docs/existing-pool.md say MfaConfiguration only", kept)
	}
}
