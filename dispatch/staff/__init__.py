"""Staff accounts: the console's passwords, sign-in with its lock-out, and each person's private
calendar link. Who the staff are (names, mobiles, roles) is the configuration's; only what a
person sets or earns by signing in is stored here."""
