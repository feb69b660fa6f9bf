"""humanloop"""
