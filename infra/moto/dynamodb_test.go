package moto

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Concurrent conditional writes that expect the same old value: exactly
// one succeeds, as in DynamoDB (ext/dynamodb_ext.py).
func TestConditionalWritesAreAtomic(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(AWSConfig(ctx, ForTest(t).URL()))
	table := "atomic-" + randomHex(4)
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	key := map[string]ddbtypes.AttributeValue{"k": &ddbtypes.AttributeValueMemberS{Value: "x"}}
	for round := range 5 {
		old := strconv.Itoa(round)
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]ddbtypes.AttributeValue{
			"k": key["k"], "v": &ddbtypes.AttributeValueMemberS{Value: old}}}); err != nil {
			t.Fatal(err)
		}
		const racers = 20
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				_, errs[i] = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key,
					UpdateExpression:          aws.String("SET v = :new"),
					ConditionExpression:       aws.String("v = :old"),
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":old": &ddbtypes.AttributeValueMemberS{Value: old}, ":new": &ddbtypes.AttributeValueMemberS{Value: old + "-" + strconv.Itoa(i)}},
				})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			var failed *ddbtypes.ConditionalCheckFailedException
			switch {
			case err == nil:
				won++
			case !errors.As(err, &failed):
				t.Fatal(err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of %d conditional writes on the same old value succeeded", round, won, racers)
		}
	}
}
