package userpool

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth/shared/cognito"
)

// Plan is what Attach or Detach will do to one pool, computed from a
// Snapshot before anything is written.
type Plan struct {
	Action string // "attach" or "detach"
	// Read is the configuration the plan was made from.
	Read *Snapshot
	// Slots are the slots that change, in Slots order.
	Slots []SlotChange
	// Others are kakaoauth's slots that hold another function (detach
	// leaves them alone).
	Others []SlotChange
	// AddKakaoID adds custom:kakao_id (AddCustomAttributes).
	AddKakaoID bool
	// Request is the UpdateUserPool request; nil when no slot changes.
	Request *cip.UpdateUserPoolInput
	// Expected is the configuration the pool will have afterwards, apart
	// from the added attribute.
	Expected *Snapshot
}

// SlotChange is one trigger slot before and after ("" is empty).
type SlotChange struct {
	Slot          Slot
	Before, After string
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return p.Request == nil && !p.AddKakaoID }

// PoolID is the planned pool's id.
func (p *Plan) PoolID() string { return aws.ToString(p.Read.Pool.Id) }

// Changes are every setting that will differ afterwards, as leaves of the
// configuration (the added attribute is one line, "custom:kakao_id").
func (p *Plan) Changes() []Change {
	out := diff(snapshotSettings(p.Read), snapshotSettings(p.Expected), nil)
	if p.AddKakaoID {
		out = append(out, Change{Setting: "SchemaAttributes[" + cognito.AttrKakaoID + "]", After: kakaoIDShape})
	}
	return out
}

// Unchanged is how many top-level settings (the pool's name among them)
// the request carries as read.
func (p *Plan) Unchanged() int {
	if p.Request == nil {
		return 0
	}
	changed := map[string]bool{}
	for _, c := range p.Changes() {
		changed[strings.SplitN(c.Setting, ".", 2)[0]] = true
	}
	n := 0
	for k := range settingsTop(p.Read.Pool) {
		if _, skip := notSent[k]; !skip && !changed[k] && k != "Id" {
			n++
		}
	}
	return n
}

// OtherTriggers is how many trigger settings of the pool's own (slots,
// versions, the KMS key) the request carries as read.
func (p *Plan) OtherTriggers() int {
	if p.Request == nil {
		return 0
	}
	mine := map[string]bool{}
	for _, c := range p.Slots {
		mine[string(c.Slot)] = true
	}
	n := 0
	for _, f := range reflect.VisibleFields(reflect.TypeFor[types.LambdaConfigType]()) {
		v := reflect.ValueOf(p.Request.LambdaConfig).Elem().FieldByIndex(f.Index)
		if f.IsExported() && !mine[f.Name] && !v.IsZero() {
			n++
		}
	}
	return n
}

// settingsTop are the top-level settings the description holds.
func settingsTop(pool types.UserPoolType) map[string]bool {
	out := map[string]bool{}
	for p := range settings(pool) {
		out[strings.SplitN(strings.SplitN(p, ".", 2)[0], "[", 2)[0]] = true
	}
	return out
}

// snapshotSettings flattens a snapshot: the description's leaves at the
// root, the MFA configuration's under "MFA.".
func snapshotSettings(s *Snapshot) map[string]string {
	out := settings(s.Pool)
	for k, v := range settings(s.MFA) {
		out["MFA."+k] = v
	}
	return out
}

// kakaoIDShape is the attribute attach adds: String, because Kakao ids are
// int64 and a string keeps all 19 digits exact; mutable, because linked
// users get it after they were created and Cognito links no hosted-UI
// sign-in to a user with an immutable custom attribute.
const kakaoIDShape = "String, mutable, 1 to 20 characters"

const (
	kakaoIDMin = 1
	kakaoIDMax = 20
	// maxKakaoIDDigits is the longest Kakao id (int64).
	maxKakaoIDDigits = 19
)

func kakaoIDSchema() types.SchemaAttributeType {
	return types.SchemaAttributeType{
		Name:              aws.String(strings.TrimPrefix(cognito.AttrKakaoID, "custom:")),
		AttributeDataType: types.AttributeDataTypeString,
		Mutable:           aws.Bool(true),
		StringAttributeConstraints: &types.StringAttributeConstraintsType{
			MinLength: aws.String(strconv.Itoa(kakaoIDMin)),
			MaxLength: aws.String(strconv.Itoa(kakaoIDMax)),
		},
	}
}

// kakaoIDAttribute is the pool's custom:kakao_id, nil when absent.
func kakaoIDAttribute(pool *types.UserPoolType) *types.SchemaAttributeType {
	for i, a := range pool.SchemaAttributes {
		if aws.ToString(a.Name) == cognito.AttrKakaoID {
			return &pool.SchemaAttributes[i]
		}
	}
	return nil
}

// checkKakaoID says what is wrong with an existing custom:kakao_id ("" when
// it serves).
func checkKakaoID(a *types.SchemaAttributeType) string {
	var wrong []string
	if a.AttributeDataType != types.AttributeDataTypeString {
		wrong = append(wrong, fmt.Sprintf("its type is %s, not String", a.AttributeDataType))
	}
	if !aws.ToBool(a.Mutable) {
		wrong = append(wrong, "it is immutable")
	}
	if c := a.StringAttributeConstraints; c != nil && a.AttributeDataType == types.AttributeDataTypeString {
		if n, err := strconv.Atoi(aws.ToString(c.MinLength)); err == nil && n > kakaoIDMin {
			wrong = append(wrong, fmt.Sprintf("its minimum length %d refuses short Kakao ids", n))
		}
		if n, err := strconv.Atoi(aws.ToString(c.MaxLength)); err == nil && n < maxKakaoIDDigits {
			wrong = append(wrong, fmt.Sprintf("its maximum length %d refuses 19-digit Kakao ids", n))
		}
	}
	return strings.Join(wrong, "; ")
}

// AttributeShapeError is a custom:kakao_id that kakaoauth cannot use.
type AttributeShapeError struct {
	PoolID, Problem string
}

func (e *AttributeShapeError) Error() string {
	return fmt.Sprintf("user pool %s already has %s, but %s. kakaoauth needs it %s: linked users get it after "+
		"they were created, which Cognito allows only for a mutable attribute, and Cognito links no hosted-UI "+
		"sign-in to a user with an immutable custom attribute. Cognito can neither change nor remove an attribute, "+
		"so kakaoauth cannot join this pool; nothing was changed (docs/existing-pool.md, \"custom:kakao_id has the wrong shape\")",
		e.PoolID, cognito.AttrKakaoID, e.Problem, kakaoIDShape)
}

// SlotTakenError is a slot kakaoauth needs that another function holds.
type SlotTakenError struct {
	PoolID string
	Taken  []SlotChange // Before: the function there; After: kakaoauth's
}

func (e *SlotTakenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "user pool %s: ", e.PoolID)
	for i, t := range e.Taken {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "the %s trigger is held by %s", t.Slot, t.Before)
	}
	b.WriteString(". A pool has one function per trigger, so kakaoauth would have to replace it, and it never " +
		"replaces a trigger it did not set. Nothing was changed. If that function is an earlier kakaoauth stack's, " +
		"run detach for that stack; if it is yours, see docs/existing-pool.md, \"A trigger slot is taken\"")
	return b.String()
}

// lambdaARN is a Lambda function ARN, optionally with a version or alias.
var lambdaARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$`)

// check refuses an unusable set of functions.
func (f Functions) check(required []Slot) error {
	var missing []string
	for _, s := range required {
		if f[s] == "" {
			missing = append(missing, string(s))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no function for the %s trigger", strings.Join(missing, ", "))
	}
	for s, arn := range f {
		if _, err := s.valid(); err != nil {
			return err
		}
		if arn != "" && !lambdaARN.MatchString(arn) {
			return fmt.Errorf("the %s function %q is not a Lambda function ARN", s, arn)
		}
	}
	return nil
}

func (s Slot) valid() (Slot, error) {
	for _, k := range Slots {
		if k == s {
			return s, nil
		}
	}
	return "", fmt.Errorf("%q is not a trigger kakaoauth uses", string(s))
}

// AttachRequired are the slots every kakaoauth deployment fills; PreSignUp
// is filled when the stack has the hosted UI.
var AttachRequired = []Slot{PreAuthentication, DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse}

// PlanAttach plans putting fns into their slots and adding custom:kakao_id
// when it is missing. It refuses a slot another function holds (naming
// every one) and a custom:kakao_id of the wrong shape; a slot that already
// holds kakaoauth's function stays as it is.
func PlanAttach(s *Snapshot, fns Functions) (*Plan, error) {
	if err := fns.check(AttachRequired); err != nil {
		return nil, err
	}
	p := &Plan{Action: "attach", Read: s}
	var taken []SlotChange
	for _, slot := range Slots {
		want := fns[slot]
		if want == "" {
			continue
		}
		switch cur := slot.get(s.Pool.LambdaConfig); cur {
		case want:
		case "":
			p.Slots = append(p.Slots, SlotChange{Slot: slot, After: want})
		default:
			taken = append(taken, SlotChange{Slot: slot, Before: cur, After: want})
		}
	}
	if len(taken) > 0 {
		return nil, &SlotTakenError{PoolID: p.PoolID(), Taken: taken}
	}
	if a := kakaoIDAttribute(&s.Pool); a == nil {
		p.AddKakaoID = true
	} else if problem := checkKakaoID(a); problem != "" {
		return nil, &AttributeShapeError{PoolID: p.PoolID(), Problem: problem}
	}
	p.build()
	return p, nil
}

// PlanDetach plans emptying every slot that holds the function fns names
// for it; slots holding anything else stay as they are.
func PlanDetach(s *Snapshot, fns Functions) (*Plan, error) {
	if err := fns.check(nil); err != nil {
		return nil, err
	}
	if len(fns) == 0 {
		return nil, fmt.Errorf("no kakaoauth function to detach")
	}
	p := &Plan{Action: "detach", Read: s}
	for _, slot := range Slots {
		ours := fns[slot]
		if ours == "" {
			continue
		}
		switch cur := slot.get(s.Pool.LambdaConfig); cur {
		case "":
		case ours:
			p.Slots = append(p.Slots, SlotChange{Slot: slot, Before: cur})
		default:
			p.Others = append(p.Others, SlotChange{Slot: slot, Before: cur, After: ours})
		}
	}
	p.build()
	return p, nil
}

// build makes the request and the expected configuration from the slot
// changes.
func (p *Plan) build() {
	p.Expected = &Snapshot{Pool: p.Read.Pool, MFA: p.Read.MFA}
	if len(p.Slots) == 0 {
		return
	}
	p.Request = UpdateInput(&p.Read.Pool)
	if p.Request.LambdaConfig == nil {
		p.Request.LambdaConfig = &types.LambdaConfigType{}
	}
	for _, c := range p.Slots {
		c.Slot.set(p.Request.LambdaConfig, c.After)
	}
	p.Expected.Pool.LambdaConfig = p.Request.LambdaConfig
	// A validity moved out of the deprecated field shows in the policy.
	if p.Request.Policies != p.Read.Pool.Policies {
		p.Expected.Pool.Policies = p.Request.Policies
	}
}
