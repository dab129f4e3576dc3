"""OCPP 2.0.1 and 1.6 (OCPP-J over websockets): charging stations report sessions and meter values and
receive the enforced limits as charging profiles."""
