package userpool

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

const (
	arnPrefix   = "arn:aws:lambda:ap-northeast-2:123456789012:function:"
	ourPreAuth  = arnPrefix + "kakaoauth-PreAuthFunction"
	ourDefine   = arnPrefix + "kakaoauth-DefineAuthChallengeFunction"
	ourCreate   = arnPrefix + "kakaoauth-CreateAuthChallengeFunction"
	ourVerify   = arnPrefix + "kakaoauth-VerifyAuthChallengeFunction"
	ourSignUp   = arnPrefix + "kakaoauth-PreSignUpFunction"
	theirs      = arnPrefix + "team-passwordless-define"
	theirPost   = arnPrefix + "team-post-confirmation"
	theirTokens = arnPrefix + "team-pre-token:live"
)

func ours() Functions {
	return Functions{PreAuthentication: ourPreAuth, DefineAuthChallenge: ourDefine,
		CreateAuthChallenge: ourCreate, VerifyAuthChallengeResponse: ourVerify}
}

func kakaoIDAttr(mutable bool, typ types.AttributeDataType, min, max string) types.SchemaAttributeType {
	a := types.SchemaAttributeType{Name: aws.String("custom:kakao_id"), AttributeDataType: typ, Mutable: aws.Bool(mutable)}
	if typ == types.AttributeDataTypeString {
		a.StringAttributeConstraints = &types.StringAttributeConstraintsType{MinLength: aws.String(min), MaxLength: aws.String(max)}
	}
	return a
}

// A pool with triggers of its own: post confirmation, a V2 pre token
// generation on an alias, a custom email sender with its KMS key.
func teamPool() *Snapshot {
	return &Snapshot{
		Pool: types.UserPoolType{
			Id:   aws.String("ap-northeast-2_Team"),
			Name: aws.String("team-users"),
			LambdaConfig: &types.LambdaConfigType{
				PostConfirmation:         aws.String(theirPost),
				PreTokenGeneration:       aws.String(theirTokens),
				PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(theirTokens), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV20},
				CustomEmailSender:        &types.CustomEmailLambdaVersionConfigType{LambdaArn: aws.String(arnPrefix + "mailer"), LambdaVersion: types.CustomEmailSenderLambdaVersionTypeV10},
				KMSKeyID:                 aws.String("arn:aws:kms:ap-northeast-2:123456789012:key/k"),
			},
			MfaConfiguration:   types.UserPoolMfaTypeOptional,
			DeletionProtection: types.DeletionProtectionTypeActive,
			Policies:           &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(10), TemporaryPasswordValidityDays: 3}},
			SchemaAttributes:   []types.SchemaAttributeType{{Name: aws.String("email"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}},
		},
		MFA: cip.GetUserPoolMfaConfigOutput{MfaConfiguration: types.UserPoolMfaTypeOptional,
			SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}},
	}
}

func TestAttachFillsEmptySlotsAndCarriesTheRest(t *testing.T) {
	s := teamPool()
	read := snapshotSettings(s)
	p, err := PlanAttach(s, ours())
	if err != nil {
		t.Fatal(err)
	}
	if !p.AddKakaoID {
		t.Fatal("custom:kakao_id is missing, yet not added")
	}
	lc := p.Request.LambdaConfig
	for slot, arn := range ours() {
		if got := slot.get(lc); got != arn {
			t.Fatalf("%s = %q", slot, got)
		}
	}
	if aws.ToString(lc.PostConfirmation) != theirPost || aws.ToString(lc.PreTokenGenerationConfig.LambdaArn) != theirTokens ||
		lc.PreTokenGenerationConfig.LambdaVersion != types.PreTokenGenerationLambdaVersionTypeV20 ||
		aws.ToString(lc.CustomEmailSender.LambdaArn) != arnPrefix+"mailer" || aws.ToString(lc.KMSKeyID) == "" || lc.PreSignUp != nil {
		t.Fatalf("the pool's own triggers were not carried: %+v", *lc)
	}
	if aws.ToString(p.Request.UserPoolId) != "ap-northeast-2_Team" || p.Request.MfaConfiguration != types.UserPoolMfaTypeOptional ||
		p.Request.DeletionProtection != types.DeletionProtectionTypeActive {
		t.Fatalf("request %+v", *p.Request)
	}
	if !reflect.DeepEqual(snapshotSettings(s), read) {
		t.Fatal("planning modified the snapshot")
	}
	var got []string
	for _, c := range p.Changes() {
		got = append(got, c.Setting+": "+c.Before+" -> "+c.After)
	}
	want := []string{
		"LambdaConfig.CreateAuthChallenge:  -> " + ourCreate,
		"LambdaConfig.DefineAuthChallenge:  -> " + ourDefine,
		"LambdaConfig.PreAuthentication:  -> " + ourPreAuth,
		"LambdaConfig.VerifyAuthChallengeResponse:  -> " + ourVerify,
		"SchemaAttributes[custom:kakao_id]:  -> " + kakaoIDShape,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var out bytes.Buffer
	p.Render(&out)
	for _, line := range []string{
		"kakaoauth pool attach: user pool ap-northeast-2_Team (team-users)",
		"  LambdaConfig.PreAuthentication\n  - (none)\n  + " + ourPreAuth + "\n",
		"  SchemaAttributes[custom:kakao_id]\n  - (none)\n  + String, mutable, 1 to 20 characters (AddCustomAttributes)\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Fatalf("render lacks %q:\n%s", line, out.String())
		}
	}
	if strings.Contains(out.String(), "PostConfirmation") || strings.Contains(out.String(), "Mfa") {
		t.Fatalf("render shows what does not change:\n%s", out.String())
	}

	// With the hosted UI, PreSignUp too.
	fns := ours()
	fns[PreSignUp] = ourSignUp
	p, err = PlanAttach(s, fns)
	if err != nil || aws.ToString(p.Request.LambdaConfig.PreSignUp) != ourSignUp {
		t.Fatalf("hosted UI: %v", err)
	}
}

func TestAttachAgainChangesNothing(t *testing.T) {
	s := teamPool()
	s.Pool.LambdaConfig.PreAuthentication = aws.String(ourPreAuth)
	s.Pool.LambdaConfig.DefineAuthChallenge = aws.String(ourDefine)
	s.Pool.SchemaAttributes = append(s.Pool.SchemaAttributes, kakaoIDAttr(true, types.AttributeDataTypeString, "1", "20"))
	p, err := PlanAttach(s, ours())
	if err != nil {
		t.Fatal(err)
	}
	if p.AddKakaoID || len(p.Slots) != 2 || p.Slots[0].Slot != CreateAuthChallenge || p.Slots[1].Slot != VerifyAuthChallengeResponse {
		t.Fatalf("half attached: %+v", p.Slots)
	}
	s.Pool.LambdaConfig.CreateAuthChallenge = aws.String(ourCreate)
	s.Pool.LambdaConfig.VerifyAuthChallengeResponse = aws.String(ourVerify)
	p, err = PlanAttach(s, ours())
	if err != nil || !p.Empty() || p.Request != nil {
		t.Fatalf("attached: %v %+v", err, p)
	}
	var out bytes.Buffer
	p.Render(&out)
	if !strings.Contains(out.String(), "Nothing to change") {
		t.Fatal(out.String())
	}
}

func TestAttachRefusesATakenSlot(t *testing.T) {
	s := teamPool()
	s.Pool.LambdaConfig.DefineAuthChallenge = aws.String(theirs)
	s.Pool.LambdaConfig.PreAuthentication = aws.String(ourPreAuth) // ours: fine
	s.Pool.LambdaConfig.VerifyAuthChallengeResponse = aws.String(theirs + "-verify")
	_, err := PlanAttach(s, ours())
	var taken *SlotTakenError
	if !errors.As(err, &taken) {
		t.Fatalf("taken slots: %v", err)
	}
	if len(taken.Taken) != 2 || taken.Taken[0].Slot != DefineAuthChallenge || taken.Taken[1].Slot != VerifyAuthChallengeResponse {
		t.Fatalf("taken %+v", taken.Taken)
	}
	for _, want := range []string{"DefineAuthChallenge trigger is held by " + theirs, "VerifyAuthChallengeResponse trigger is held by " + theirs + "-verify", "Nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("message lacks %q: %v", want, err)
		}
	}
}

func TestAttachChecksTheAttributeShape(t *testing.T) {
	for _, tc := range []struct {
		attr types.SchemaAttributeType
		want string // "" serves
	}{
		{kakaoIDAttr(true, types.AttributeDataTypeString, "1", "20"), ""},
		{kakaoIDAttr(true, types.AttributeDataTypeString, "0", "2048"), ""},
		{kakaoIDAttr(false, types.AttributeDataTypeString, "1", "20"), "it is immutable"},
		{kakaoIDAttr(true, types.AttributeDataTypeNumber, "", ""), "its type is Number, not String"},
		{kakaoIDAttr(true, types.AttributeDataTypeString, "1", "12"), "maximum length 12 refuses 19-digit Kakao ids"},
		{kakaoIDAttr(true, types.AttributeDataTypeString, "5", "20"), "minimum length 5 refuses short Kakao ids"},
	} {
		s := teamPool()
		s.Pool.SchemaAttributes = append(s.Pool.SchemaAttributes, tc.attr)
		p, err := PlanAttach(s, ours())
		if tc.want == "" {
			if err != nil || p.AddKakaoID {
				t.Fatalf("%+v: %v", tc.attr, err)
			}
			continue
		}
		var shape *AttributeShapeError
		if !errors.As(err, &shape) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("%+v: %v", tc.attr, err)
		}
	}
}

func TestPlanRefusesBadFunctions(t *testing.T) {
	s := teamPool()
	for _, tc := range []struct {
		fns  Functions
		want string
	}{
		{Functions{PreAuthentication: ourPreAuth}, "no function for the DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse trigger"},
		{func() Functions { f := ours(); f[PreAuthentication] = "kakaoauth-PreAuthFunction"; return f }(), "not a Lambda function ARN"},
		{func() Functions { f := ours(); f["PostConfirmation"] = ourPreAuth; return f }(), "not a trigger kakaoauth uses"},
	} {
		if _, err := PlanAttach(s, tc.fns); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%v: %v", tc.fns, err)
		}
	}
	if _, err := PlanDetach(s, Functions{}); err == nil {
		t.Fatal("detach of nothing")
	}
}

func TestDetachEmptiesOnlyKakaoauthSlots(t *testing.T) {
	s := teamPool()
	lc := s.Pool.LambdaConfig
	lc.PreAuthentication = aws.String(ourPreAuth)
	lc.DefineAuthChallenge = aws.String(ourDefine)
	lc.CreateAuthChallenge = aws.String(ourCreate)
	lc.VerifyAuthChallengeResponse = aws.String(ourVerify)
	lc.PreSignUp = aws.String(theirs) // someone else's since
	fns := ours()
	fns[PreSignUp] = ourSignUp
	p, err := PlanDetach(s, fns)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Slots) != 4 || len(p.Others) != 1 || p.Others[0].Before != theirs {
		t.Fatalf("slots %+v others %+v", p.Slots, p.Others)
	}
	got := p.Request.LambdaConfig
	if got.PreAuthentication != nil || got.DefineAuthChallenge != nil || got.CreateAuthChallenge != nil || got.VerifyAuthChallengeResponse != nil ||
		aws.ToString(got.PreSignUp) != theirs || aws.ToString(got.PostConfirmation) != theirPost || got.PreTokenGenerationConfig == nil {
		t.Fatalf("detach request %+v", *got)
	}
	if aws.ToString(lc.PreAuthentication) != ourPreAuth {
		t.Fatal("planning modified the snapshot")
	}
	var out bytes.Buffer
	p.Render(&out)
	for _, want := range []string{"  LambdaConfig.PreAuthentication\n  - " + ourPreAuth + "\n  + (none)\n", "left alone: PreSignUp holds " + theirs, "custom:kakao_id stays"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("render lacks %q:\n%s", want, out.String())
		}
	}

	// Detached: nothing left to do.
	p, err = PlanDetach(teamPool(), fns)
	if err != nil || !p.Empty() {
		t.Fatalf("nothing attached: %v %+v", err, p)
	}
}
