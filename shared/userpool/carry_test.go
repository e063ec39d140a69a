package userpool

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// fill sets every exported leaf under v to a value no other leaf has, so a
// field that is dropped, zeroed or swapped shows.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, *n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		val := reflect.New(v.Type().Elem()).Elem()
		fill(val, n)
		m.SetMapIndex(reflect.ValueOf(fmt.Sprintf("k%d", *n)).Convert(v.Type().Key()), val)
		v.Set(m)
	default:
		panic(fmt.Sprintf("fill: %s", v.Type()))
	}
}

func filledPool(t *testing.T) types.UserPoolType {
	t.Helper()
	var pool types.UserPoolType
	n := 0
	fill(reflect.ValueOf(&pool).Elem(), &n)
	return pool
}

func exportedFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if f.IsExported() {
			out = append(out, f.Name)
		}
	}
	return out
}

// The guard against SDK drift: every field of UpdateUserPoolInput is taken
// from the description (same name, or renamed) or listed with its reason
// as not carried; every field of the description is carried or listed with
// its reason as not sent; and everything carried arrives leaf for leaf,
// except the reshaped leaves. A field a newer SDK adds to either type
// fails here until the tables or UpdateInput say what to do with it.
func TestUpdateInputCarriesEveryField(t *testing.T) {
	pool := filledPool(t)
	before := settings(pool)
	in := UpdateInput(&pool)
	if got := settings(pool); !reflect.DeepEqual(got, before) {
		t.Fatal("UpdateInput modified the description")
	}
	poolType := reflect.TypeFor[types.UserPoolType]()
	inV := reflect.ValueOf(in).Elem()
	poolV := reflect.ValueOf(pool)
	sources := map[string]bool{}
	var problems []string
	for _, name := range exportedFields(inV.Type()) {
		if reason, ok := requestNotCarried[name]; ok {
			if reason == "" {
				problems = append(problems, "requestNotCarried."+name+" has no reason")
			}
			continue
		}
		src := name
		if r, ok := renamed[name]; ok {
			src = r
		}
		sf, ok := poolType.FieldByName(src)
		if !ok {
			problems = append(problems, fmt.Sprintf("UpdateUserPoolInput.%s: no description field %s to carry it from; carry it in UpdateInput or list it in requestNotCarried with the reason", name, src))
			continue
		}
		if sf.Type != inV.FieldByName(name).Type() {
			problems = append(problems, fmt.Sprintf("UpdateUserPoolInput.%s is %s, the description's %s is %s", name, inV.FieldByName(name).Type(), src, sf.Type))
			continue
		}
		sources[src] = true
		sent := settings(inV.FieldByName(name).Interface())
		read := settings(poolV.FieldByName(src).Interface())
		if len(read) == 0 {
			problems = append(problems, "fill left "+src+" empty")
		}
		for _, c := range diff(read, sent, func(p string) bool { _, ok := reshaped[join(src, p)]; return ok }) {
			problems = append(problems, fmt.Sprintf("UpdateUserPoolInput.%s: %s is %q in the description, %q in the request", name, join(src, c.Setting), c.Before, c.After))
		}
	}
	for _, name := range exportedFields(poolType) {
		reason, listed := notSent[name]
		switch {
		case sources[name] && listed:
			problems = append(problems, "notSent lists "+name+", which the request carries")
		case !sources[name] && !listed:
			problems = append(problems, fmt.Sprintf("DescribeUserPool's %s is neither carried into UpdateUserPoolInput nor listed in notSent with the reason", name))
		case listed && reason == "":
			problems = append(problems, "notSent."+name+" has no reason")
		}
	}
	for name := range notSent {
		if _, ok := poolType.FieldByName(name); !ok {
			problems = append(problems, "notSent lists "+name+", which the description does not have")
		}
	}
	for leaf := range reshaped {
		if _, ok := before[leaf]; !ok {
			problems = append(problems, "reshaped lists "+leaf+", which the description does not have")
		}
	}
	slices.Sort(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// The deprecated validity is never sent; its value moves into a password
// policy that lacks one, and no policy is invented for a pool without one.
func TestUnusedAccountValidityDays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policies *types.UserPoolPolicyType
		want     *types.UserPoolPolicyType
	}{
		{"policy has its own", &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(12), RequireSymbols: true, TemporaryPasswordValidityDays: 3}},
			&types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(12), RequireSymbols: true, TemporaryPasswordValidityDays: 3}}},
		{"policy lacks it", &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(12), RequireSymbols: true}},
			&types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(12), RequireSymbols: true, TemporaryPasswordValidityDays: 5}}},
		{"no policy", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := types.UserPoolType{
				Id:                    aws.String("us-east-1_x"),
				Policies:              tc.policies,
				AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true, UnusedAccountValidityDays: 5},
			}
			read := settings(pool)
			in := UpdateInput(&pool)
			if in.AdminCreateUserConfig.UnusedAccountValidityDays != 0 || !in.AdminCreateUserConfig.AllowAdminCreateUserOnly {
				t.Fatalf("admin create user config %+v", *in.AdminCreateUserConfig)
			}
			if !reflect.DeepEqual(settings(in.Policies), settings(tc.want)) {
				t.Fatalf("policies %v, want %v", settings(in.Policies), settings(tc.want))
			}
			if !reflect.DeepEqual(settings(pool), read) {
				t.Fatal("the description was modified")
			}
		})
	}
}

// UnknownFields finds members the SDK's types do not have, at any depth;
// the request shapes' names count as known.
func TestUnknownFields(t *testing.T) {
	pool := filledPool(t)
	body, err := json.Marshal(map[string]any{"UserPool": pool})
	if err != nil {
		t.Fatal(err)
	}
	if unknown, err := UnknownFields(body); err != nil || len(unknown) > 0 {
		t.Fatalf("a description of known fields: %v %v", unknown, err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	doc["UserPool"]["PoolName"] = "moto echoes the request's name"
	doc["UserPool"]["PasswordlessFutureSetting"] = map[string]any{"Enabled": true}
	doc["UserPool"]["EmailConfiguration"].(map[string]any)["FutureLeaf"] = "x"
	doc["UserPool"]["SchemaAttributes"].([]any)[0].(map[string]any)["FutureConstraint"] = 1
	doc["UserPool"]["UserPoolTags"].(map[string]any)["team"] = "tag values are free"
	body, _ = json.Marshal(doc)
	unknown, err := UnknownFields(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"EmailConfiguration.FutureLeaf", "PasswordlessFutureSetting", "SchemaAttributes[].FutureConstraint"}
	if !slices.Equal(unknown, want) {
		t.Fatalf("unknown %v, want %v", unknown, want)
	}
	if msg := (&UnknownFieldsError{Fields: unknown}).Error(); !strings.Contains(msg, "PasswordlessFutureSetting") || !strings.Contains(msg, "nothing was changed") {
		t.Fatal(msg)
	}
	if _, err := UnknownFields(nil); err == nil {
		t.Fatal("an answer never seen passes")
	}
}
