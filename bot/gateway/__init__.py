"""The webhook gateway of the production mode: Twilio's WhatsApp and SMS webhooks and status
callbacks, checked, stored in PostgreSQL with the farmer's sequence number, published to RabbitMQ
with publisher confirms, and answered at once. No model, no Rasa: any number of gateways run
behind a load balancer (README, *Production*)."""
