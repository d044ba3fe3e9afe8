"""Stage 4, report: what people read — workbooks, masking, the bulletin, feedback lists, reminders."""
