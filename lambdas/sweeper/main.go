// Command sweeper runs every minute (EventBridge Scheduler): it queues the
// unlink callbacks the webhook kept while the queue was down, sends the
// lifecycle events whose own run could not, and applies the retention of
// unlinked and deleted accounts (see workflow.Steps.Sweep).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/eventbridge"
	"github.com/kakaoauth/kakaoauth/shared/sqs"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Env: []string{"MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME", "OPERATIONS_TABLE", "UNLINK_QUEUE_URL"}}, func(d *bootstrap.Deps) any {
		c, db := d.Config, dynamodb.NewFromConfig(d.AWS)
		mappings := store.NewMappings(db, c.MappingTable, store.WithRetention(c.Retention))
		audit := store.AuditOf(db, c)
		return d.Steps(
			workflow.WithMappings(mappings),
			workflow.WithAudit(audit),
			workflow.WithEvents(eventbridge.New(awseb.NewFromConfig(d.AWS), c.EventBusName)),
			workflow.WithInbox(store.NewOperations(db, c.OperationsTable)),
			workflow.WithUnlinkQueue(sqs.New(awssqs.NewFromConfig(d.AWS), c.UnlinkQueueURL)),
			workflow.WithSweeper(mappings, audit),
		).Sweep
	})
}
