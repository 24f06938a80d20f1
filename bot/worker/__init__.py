"""The Rasa workers of the production mode: ``python -m bot.worker --model models/X.tar.gz``.

Each loads the model once, holds a share of the inbound partitions (leases in the database), and
consumes their RabbitMQ queues: for each MessageSid it handles the farmer's messages in sequence
order, records the replies for the senders and the message as done in one unit of work, and only
then acknowledges the queue message. A recovery loop takes the messages of its partitions whose
retry is due or that never reached it through the queue. (README, *Production*.)"""
